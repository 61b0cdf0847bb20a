"""The `/metrics` monitor without a broker: a scrape still answers, with the desk's figures and the failure counted;
and which stage a committed offset counts for."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from adapters.http.api import create_app
from adapters.http.api.monitor import Monitor, stage_consumed
from adapters.kafka.lag import PartitionLag
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from events import topics
from projections.projector import DESK, apply_records, prepare_views
from tests.unit.test_desk_fold import Log


def test_a_scrape_without_a_broker_answers_with_the_desk_figures_and_counts_the_failure(tmp_path: Path) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    log = Log()
    for kind in ("malformed_json", "malformed_json", "wrong_key"):
        log.dead_letter(log.put_bytes(topics.ORDERS, b"junk", key="k"), kind)
    with engine.begin() as conn:
        prepare_views(conn, DESK)
        apply_records(conn, DESK, log.records)
    monitor = Monitor("127.0.0.1:1", "", "oms-pipeline", engine, timeout_s=0.5, min_interval_s=0)
    client = TestClient(create_app(Settings(data_dir=tmp_path), RecordingPublisher(), monitor=monitor))
    text = client.get("/metrics").text
    assert 'oms_deadletters{kind="malformed_json",processor="orders"} 2.0' in text
    assert 'oms_deadletters{kind="wrong_key",processor="orders"} 1.0' in text
    assert "oms_deadlettered_events 3.0" in text
    assert 'oms_desk_items{category="dead_letter",status="open"} 3.0' in text
    assert 'oms_monitor_errors_total{source="broker"} 1.0' in text


def test_stage_throughput_counts_the_pipeline_groups_offsets_by_the_stage_reading_each_topic() -> None:
    lags = [
        PartitionLag("p.oms-pipeline", "p.oms.orders", 0, 10, 12),
        PartitionLag("p.oms-pipeline", "p.oms.orders", 1, 5, 5),
        PartitionLag("p.oms-pipeline", "p.oms-pipeline-order-replies", 0, 7, 7),
        PartitionLag("p.oms-pipeline", "p.oms-pipeline-shipment-requests", 0, 2, 2),
        PartitionLag("p.oms-pipeline", "p.oms.inventory", 0, 4, 4),
        PartitionLag("p.someone-else", "p.oms.inventory", 0, 99, 99),
    ]
    assert stage_consumed("p.", "p.oms-pipeline", lags) == {"orders": 22, "shipping": 2, "inventory": 4}
