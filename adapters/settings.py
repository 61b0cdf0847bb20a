"""All configuration, read once at start-up from `OMS_*` environment variables.

Every field's description is the README's configuration table (`python -m adapters.settings_doc --write`
regenerates it; a test fails when the two differ)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Settings read by name at the moment they are needed, one variable per channel (not a field: the names vary).
PER_CHANNEL_SETTINGS = {
    "OMS_CHANNEL_SECRET_<CHANNEL>": (
        "unset",
        "Webhook signing secret per sender: `SHOPIFY`, `WOOCOMMERCE`, `NATIVE`, `PAYMENTS`, `CARRIER` (e.g. "
        "`OMS_CHANNEL_SECRET_SHOPIFY`); unset: that sender's webhooks are taken only with an ops key.",
    ),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=None, extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers of a real cluster; unset: start the embedded broker."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the views and the history archive (e.g. "
        "`postgresql+psycopg://user@host/db`); unset: SQLite files under `OMS_DATA_DIR`.",
    )
    data_dir: Path = Field(
        default=Path("oms-data"),
        description="SQLite views and archive, the intake store, the processors' state copy, the file outbox, logs. "
        "Read commands refuse a folder that holds no views.",
    )
    partitions: int = Field(default=8, ge=1, le=256, description="Partitions of the topics we create.")
    replication_factor: int = Field(
        default=1, ge=1, description="Replication factor of the topics we create (1 on the embedded broker)."
    )
    broker_port: int = Field(default=0, ge=0, le=65535, description="Port of the embedded broker; 0 picks a free one.")
    fetch_max_wait_ms: int = Field(
        default=25,
        ge=1,
        le=5000,
        description="How long the worker's fetches wait for data (the projector's: at least 50): lower is faster "
        "per hop, higher costs less when idle (the embedded broker holds an empty fetch for all of it).",
    )
    batch_within_ms: int = Field(
        default=25,
        ge=0,
        le=5000,
        description="How long a processor gathers a batch (at most 500 messages) before running it: longer means "
        "fewer, larger writes to the broker, and that much more latency per hop.",
    )
    topic_prefix: str = Field(
        default="", description="Prefix of every topic name (isolates tests and tenants on one cluster)."
    )
    pipeline_app: str = Field(
        default="oms-pipeline",
        description="Faust app id: the processors' consumer group, and the start of their changelog topics' names.",
    )
    payment_timeout_s: float = Field(
        default=1800.0, gt=0, description="Unpaid orders are cancelled after this many seconds."
    )
    split_shipments: bool = Field(default=False, description="Ship available lines first instead of whole orders.")
    notifier: Literal["outbox", "smtp"] = Field(
        default="outbox",
        description="`outbox`: one `.eml` file per message under `OMS_DATA_DIR/outbox`; `smtp`: send through "
        "`OMS_SMTP_*`.",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server of the `smtp` notifier.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Its port.")
    smtp_username: str | None = Field(default=None, description="SMTP user name; unset: no log-in.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_sender: str = Field(default="orders@example.com", description="The From address of customer messages.")
    carrier: Literal["simulated"] = Field(default="simulated", description="The carrier adapter that books shipments.")
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="How long `oms deliver` waits for a webhook subscriber's answer."
    )
    webhook_retry_base_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="First wait before a failed webhook delivery is tried again; doubling (with jitter) up to an "
        "hour, for 24 hours.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address `oms api` (and the demo's API) listens on.")
    api_port: int = Field(
        default=8000, ge=1, le=65535, description="Port `oms api` (and the demo's API and dashboard) listens on."
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bootstrap ops keys, each an admin (dashboard log-in with no user name, "
        "`Authorization: Bearer`), beside the named accounts of `oms users`; empty: only those accounts get in "
        "(`oms demo` makes one key per run).",
    )
    log_level: LogLevel = Field(
        default="INFO",
        description="Log level of the services, in any case; `debug` also makes the `oms` commands print the "
        "traceback behind an error.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, raw: object) -> object:
        return _split_keys(raw) if isinstance(raw, str) else raw

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, raw: object) -> object:
        if not isinstance(raw, str):
            return raw
        level = raw.strip().upper()
        return "WARNING" if level == "WARN" else level

    def as_environment(self) -> dict[str, str]:
        """These settings as the `OMS_*` variables that give them back: how a child process gets them. Unset
        (None) fields are left out."""
        return {
            f"OMS_{name.upper()}": _as_variable(value)
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        }

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


def _as_variable(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_variable(item) for item in value)
    return str(value)


def _split_keys(raw: str) -> list[SecretStr]:
    return [SecretStr(key.strip()) for key in raw.split(",") if key.strip()]
