"""Issue 20.1: `oms webhooks`: subscribe (the secret shown once), list without secrets, the delivery log, redeliver,
pause and resume; `oms deliver` refuses to start without a broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapters.cli import app
from adapters.sql.engines import engine_for
from adapters.sql.webhook_queue import Consumed, enqueue_records

runner = CliRunner()


@pytest.fixture
def views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'views.sqlite3'}"
    monkeypatch.setenv("OMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    monkeypatch.delenv("OMS_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return url


def oms(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_subscribe_list_log_redeliver_pause_resume(views: str) -> None:
    made = orjson.loads(oms("webhooks", "add", "http://127.0.0.1:9/h", "-e", "oms.order.*", "--json"))
    subscription_id = made["subscription_id"]
    assert made["secret"].startswith("whsec_")
    listed = oms("webhooks", "list", "--json")
    assert subscription_id in listed and made["secret"] not in listed

    engine = engine_for(views)
    value = orjson.dumps({"id": "e-1", "type": "oms.order.paid", "subject": "o-1"})
    with engine.begin() as conn:
        enqueue_records(conn, [Consumed("oms.orders", 0, 0, "o-1", value)], datetime.now(UTC))
    engine.dispose()
    log = orjson.loads(oms("webhooks", "log", subscription_id, "--json"))
    assert log["total"] == 1 and log["items"][0]["event_id"] == "e-1"
    assert "queued" in oms("webhooks", "redeliver", subscription_id, "--delivery", log["items"][0]["delivery_id"])
    assert "queued 1 deliveries again" in oms("webhooks", "redeliver", subscription_id, "--since", "2000-01-01")
    assert "paused" in oms("webhooks", "pause", subscription_id)
    assert "active" in oms("webhooks", "resume", subscription_id)


def test_a_bad_pattern_or_secret_is_refused_and_nothing_is_made(views: str) -> None:
    bad = runner.invoke(app, ["webhooks", "add", "http://x.test", "-e", "oms.*.paid"])
    assert bad.exit_code == 2 and "event_types" in bad.output
    bad = runner.invoke(app, ["webhooks", "add", "http://x.test", "-e", "*", "--secret", "hunter2"])
    assert bad.exit_code == 2 and "secret" in bad.output
    assert orjson.loads(oms("webhooks", "list", "--json")) == []


def test_the_deliverer_needs_a_broker(views: str) -> None:
    result = runner.invoke(app, ["deliver"])

    assert result.exit_code == 2 and "OMS_KAFKA_BOOTSTRAP" in result.output
