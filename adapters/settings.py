"""All configuration, read once at start-up from `OMS_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=None, extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers; unset means start the embedded broker."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the views database; unset means SQLite under data_dir."
    )
    data_dir: Path = Field(default=Path("oms-data"), description="Where SQLite views, archive and outbox live.")
    partitions: int = Field(default=8, ge=1, le=256, description="Partitions per topic when we create topics.")
    replication_factor: int = Field(default=1, ge=1)
    broker_port: int = Field(default=0, ge=0, le=65535, description="Embedded broker port; 0 picks a free one.")
    fetch_max_wait_ms: int = Field(
        default=25,
        ge=1,
        le=5000,
        description="How long the worker's and projector's fetches wait for data: lower is faster per hop, higher "
        "costs less when idle (the embedded broker holds an empty fetch for all of it).",
    )
    batch_within_ms: int = Field(
        default=25,
        ge=0,
        le=5000,
        description="How long a processor gathers a batch (up to 500 messages) before running it: longer batches "
        "mean fewer, larger writes to the broker, at that cost in latency per hop.",
    )
    topic_prefix: str = Field(default="", description="Prefix for every topic name (tests use it to isolate runs).")
    pipeline_app: str = Field(
        default="oms-pipeline", description="Faust app id: the processors' consumer group and table names."
    )
    payment_timeout_s: float = Field(default=1800.0, gt=0, description="Unpaid orders are cancelled after this.")
    split_shipments: bool = Field(default=False, description="Ship available lines first instead of whole orders.")
    notifier: Literal["outbox", "smtp"] = "outbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "orders@example.com"
    carrier: Literal["simulated"] = "simulated"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated ops API keys."
    )
    log_level: str = "INFO"

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, raw: object) -> object:
        return _split_keys(raw) if isinstance(raw, str) else raw

    def channel_secret(self, channel: str) -> SecretStr | None:
        value = os.environ.get(f"OMS_CHANNEL_SECRET_{channel.upper()}")
        return SecretStr(value) if value else None

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "oms.sqlite3"

    @property
    def views_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


def _split_keys(raw: str) -> list[SecretStr]:
    return [SecretStr(key.strip()) for key in raw.split(",") if key.strip()]
