"""The demo's wiring: settings in, what `oms demo` runs with and hands its child processes out.

The children (`oms worker`, `oms project`, `oms api`) are built by their own builders from the same settings,
which reach them as `OMS_*` variables made in one place, `Settings.as_environment()`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Engine

from adapters.bootstrap.broker import kafka_servers
from adapters.bootstrap.worker import pipeline_config
from adapters.settings import Settings
from adapters.sql.engines import archive_engine
from pipeline.config import PipelineConfig


@dataclass(frozen=True)
class Demo:
    """The settings the demo and its children share (the broker, an ops key, an absolute data folder)."""

    settings: Settings

    @property
    def bootstrap(self) -> str:
        return kafka_servers(self.settings)

    @property
    def api_key(self) -> str:
        """The ops key the demo prints for the dashboard log-in: the first of the API's keys."""
        return self.settings.api_keys[0].get_secret_value()

    @property
    def pipeline(self) -> PipelineConfig:
        return pipeline_config(self.settings)

    @property
    def log_dir(self) -> Path:
        return self.settings.data_dir / "logs"

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def child_environment(self) -> dict[str, str]:
        return self.settings.as_environment()

    def archive(self) -> Engine:
        return archive_engine(self.settings)


def build_demo(settings: Settings) -> Demo:
    """The demo from `settings` alone (`settings.kafka_bootstrap` must be set). Without `OMS_API_KEYS` it makes
    an ops key for this run. The data folder is made absolute: the children run inside it."""
    kafka_servers(settings)
    keys = settings.api_keys or [SecretStr(secrets.token_urlsafe(18))]
    return Demo(settings.model_copy(update={"data_dir": settings.data_dir.resolve(), "api_keys": keys}))
