"""Issue 14, item 1: one builder per runtime, each from `Settings` alone. Each test changes a setting away from
its default and looks for it in what the builder made: a builder that stopped reading it fails here."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.bootstrap.api import build_api
from adapters.bootstrap.broker import NoKafkaConfigured
from adapters.bootstrap.demo import build_demo
from adapters.bootstrap.projector import build_projector
from adapters.bootstrap.worker import STATE_FILE, build_worker
from adapters.cli import app
from adapters.kafka.broker import free_port
from adapters.kafka.projection_runner import ProjectionRunner
from adapters.outbound.carriers import SimulatedCarrier
from adapters.outbound.notifiers import FileOutbox, SmtpNotifier
from adapters.settings import Settings
from tests.unit.test_stages import RecordingNotifier

KAFKA = "127.0.0.1:19092"


@pytest.fixture(autouse=True)
def no_oms_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets reaches `Settings()`."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"OMS_{name.upper()}", raising=False)


def test_the_worker_takes_every_pipeline_value_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        kafka_bootstrap=KAFKA,
        topic_prefix="t1.",
        partitions=3,
        payment_timeout_s=90.0,
        split_shipments=True,
        pipeline_app="oms-x",
        data_dir=tmp_path,
        fetch_max_wait_ms=40,
        batch_within_ms=60,
        replication_factor=2,
    )

    worker = build_worker(settings)

    config = worker.config
    assert config.bootstrap == KAFKA
    assert config.topic_prefix == "t1."
    assert config.partitions == 3
    assert config.payment_timeout == timedelta(seconds=90)
    assert config.split_shipments is True
    assert config.app_id == "t1.oms-x"
    assert config.data_dir == str(tmp_path)
    assert config.fetch_max_wait_ms == 40
    assert config.batch_within_s == pytest.approx(0.06)
    assert config.replication_factor == 2
    assert worker.state_file == tmp_path / STATE_FILE


def test_the_worker_notifies_as_the_settings_say_unless_a_test_passes_its_own(tmp_path: Path) -> None:
    outbox = build_worker(Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path))
    smtp = build_worker(Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path, notifier="smtp", smtp_host="mail.test"))
    carrier, notifier = SimulatedCarrier(fail_first=1), RecordingNotifier()
    faked = build_worker(Settings(kafka_bootstrap=KAFKA, notifier="smtp"), carrier=carrier, notifier=notifier)

    assert isinstance(outbox.notifier, FileOutbox)
    assert isinstance(smtp.notifier, SmtpNotifier)
    assert faked.carrier is carrier and faked.notifier is notifier


@pytest.mark.parametrize("build", [build_worker, build_projector, build_api, build_demo])
def test_a_builder_without_a_kafka_says_so_by_name(build: Any, tmp_path: Path) -> None:
    with pytest.raises(NoKafkaConfigured, match="OMS_KAFKA_BOOTSTRAP"):
        build(Settings(data_dir=tmp_path))


def test_the_api_takes_only_the_ops_keys_of_the_settings(tmp_path: Path) -> None:
    server = build_api(Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path, api_keys="key-one,key-two"))

    with TestClient(server.app) as client:
        answers = {
            key: client.get("/api/v1/orders", headers={"Authorization": f"Bearer {key}"}).status_code
            for key in ("key-one", "key-two", "key-three")
        }
    server.views.dispose()

    assert answers == {"key-one": 200, "key-two": 200, "key-three": 401}


def test_the_api_listens_where_the_settings_say(tmp_path: Path) -> None:
    server = build_api(Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path, api_host="0.0.0.0", api_port=8123))
    server.views.dispose()

    assert server.url == "http://0.0.0.0:8123"


def test_the_projector_reads_the_settings_kafka_prefix_and_shape(tmp_path: Path) -> None:
    settings = Settings(
        kafka_bootstrap=KAFKA,
        topic_prefix="t2.",
        data_dir=tmp_path,
        fetch_max_wait_ms=120,
        partitions=5,
        replication_factor=3,
    )

    projector = build_projector(settings, group="rebuild")

    assert (projector.partitions, projector.replication_factor) == (5, 3)
    runners = {runner.projection.name: runner for runner in projector.runners}
    assert sorted(runners) == ["archive", "desk", "inventory", "orders"]
    for runner in runners.values():
        assert runner.bootstrap == KAFKA
        assert runner.topic_names and all(name.startswith("t2.") for name in runner.topic_names)
        assert runner.fetch_max_wait_ms == 120
        assert runner.batch_size == ProjectionRunner.batch_size
        assert runner.group == f"rebuild.{runner.projection.group}"
    assert str(tmp_path / "history.sqlite3") in str(runners["archive"].engine.url)
    assert str(tmp_path / "oms.sqlite3") in str(runners["orders"].engine.url)


def test_the_projector_never_fetches_faster_than_its_floor_and_takes_a_batch_size(tmp_path: Path) -> None:
    projector = build_projector(
        Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path, fetch_max_wait_ms=5), ["orders"], batch_size=7
    )

    [runner] = projector.runners
    assert (runner.fetch_max_wait_ms, runner.batch_size) == (50, 7)


def test_settings_given_to_a_child_as_variables_come_back_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        kafka_bootstrap=KAFKA,
        data_dir=tmp_path,
        topic_prefix="t3.",
        partitions=2,
        payment_timeout_s=12.5,
        split_shipments=True,
        notifier="smtp",
        smtp_password=SecretStr("pw"),
        api_keys=[SecretStr("a"), SecretStr("b")],
        log_level="DEBUG",
    )

    environment = settings.as_environment()
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert Settings() == settings
    assert "OMS_DATABASE_URL" not in environment, "an unset setting is left unset"


def test_the_demo_shares_one_key_and_an_absolute_data_folder_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    demo = build_demo(Settings(kafka_bootstrap=KAFKA, data_dir=Path("data"), partitions=3, payment_timeout_s=20))

    for name, value in demo.child_environment().items():
        monkeypatch.setenv(name, value)
    child = Settings()

    assert demo.api_key and [key.get_secret_value() for key in child.api_keys] == [demo.api_key]
    assert child.data_dir == tmp_path / "data", "a child runs inside the data folder: a relative one would nest"
    assert (child.kafka_bootstrap, child.partitions, child.payment_timeout_s) == (KAFKA, 3, 20)
    assert demo.pipeline.payment_timeout == timedelta(seconds=20)


def test_the_demo_keeps_the_configured_ops_keys(tmp_path: Path) -> None:
    demo = build_demo(Settings(kafka_bootstrap=KAFKA, data_dir=tmp_path, api_keys="mine,theirs"))

    assert demo.api_key == "mine"
    assert demo.child_environment()["OMS_API_KEYS"] == "mine,theirs"


class BuiltApi:
    """Stands in for `build_api`: records the settings the command built it from, serves nothing."""

    def __init__(self) -> None:
        self.settings: list[Settings] = []

    def __call__(self, settings: Settings) -> BuiltApi:
        self.settings.append(settings)
        return self

    @property
    def url(self) -> str:
        return "http://test"

    async def serve(self) -> None:
        return None


def test_oms_api_hands_its_options_to_the_builder_as_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.bootstrap.api

    built = BuiltApi()
    monkeypatch.setattr(adapters.bootstrap.api, "build_api", built)
    monkeypatch.setenv("OMS_API_KEYS", "k")

    port = free_port("127.0.0.1")

    result = CliRunner().invoke(app, ["api", "--port", str(port), "--host", "127.0.0.1", "--bootstrap", KAFKA])

    assert result.exit_code == 0, result.output
    [settings] = built.settings
    assert (settings.kafka_bootstrap, settings.api_host, settings.api_port) == (KAFKA, "127.0.0.1", port)
    assert [key.get_secret_value() for key in settings.api_keys] == ["k"]
