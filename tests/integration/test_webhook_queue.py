"""Issue 20.1: the deliverer's SQL steps on SQLite and PostgreSQL alike: queueing is idempotent and records the
positions with the deliveries, a line waits behind its head, a success is recorded once, a failing subscriber is
paused, a delivery is given up after 24 hours, and redelivery sends the same event again behind its line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import Engine

from adapters.sql.engines import drop_schema, engine_for
from adapters.sql.webhook_queue import Consumed, Due, due_deliveries, enqueue_records, record_attempt, tracked_positions
from adapters.sql.webhook_tables import DELIVERED, FAILED, PAUSED, PENDING
from adapters.sql.webhooks import BadSubscription, WebhookStore
from pipeline.rules.webhook_delivery import Backoff
from tests.integration.test_projections_contract import _postgres_reachable

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BACKOFF = Backoff(base_s=10.0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path, postgres_url: str) -> Iterator[WebhookStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = engine_for(f"sqlite:///{tmp_path / 'oms.sqlite3'}")
        yield WebhookStore(engine)
        engine.dispose()
        return
    if not _postgres_reachable(postgres_url):
        pytest.skip("PostgreSQL is not reachable")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = engine_for(postgres_url, schema=schema)
    yield WebhookStore(engine)
    engine.dispose()
    drop_schema(postgres_url, schema)


def record(offset: int, key: str, event_type: str, partition: int = 0) -> Consumed:
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}:{offset}:{partition}"))
    body = {"id": event_id, "type": event_type, "subject": key, "time": T0.isoformat(), "data": {}}
    return Consumed("oms.orders", partition, offset, key, orjson.dumps(body))


def enqueue(engine: Engine, records: list[Consumed], now: datetime = T0) -> int:
    with engine.begin() as conn:
        return enqueue_records(conn, records, now)


def due(engine: Engine, now: datetime = T0) -> list[Due]:
    with engine.connect() as conn:
        return due_deliveries(conn, now, 100)


def answer(engine: Engine, item: Due, code: int | None, now: datetime = T0, pause_after: int = 20) -> str:
    with engine.begin() as conn:
        outcome = record_attempt(
            conn, item, status_code=code, latency_ms=5, error=None, now=now, backoff=BACKOFF, pause_after=pause_after
        )
    return ("paused " if outcome.paused else "") + outcome.status if outcome.recorded else "not recorded"


def test_queueing_matches_patterns_drops_redelivered_records_and_records_positions(store: WebhookStore) -> None:
    orders = store.subscribe("http://127.0.0.1:9/a", ["oms.order.*"])
    store.subscribe("http://127.0.0.1:9/b", ["oms.order.paid"])
    records = [record(0, "o-1", "oms.order.placed"), record(1, "o-1", "oms.order.paid"), record(2, "s", "oms.x.y")]
    records.append(Consumed("oms.orders", 0, 3, "o-1", b"not json"))

    assert enqueue(store.engine, records) == 3
    assert enqueue(store.engine, records[:2]) == 0  # a redelivered batch: the same ids, dropped by the database
    with store.engine.connect() as conn:
        assert tracked_positions(conn) == {("oms.orders", 0): 3}
    rows, total = store.deliveries(orders.subscription_id)
    assert total == 2 and [r["event_type"] for r in rows] == ["oms.order.paid", "oms.order.placed"]


def test_a_line_waits_behind_its_head_and_other_lines_do_not(store: WebhookStore) -> None:
    store.subscribe("http://127.0.0.1:9/a", ["*"])
    enqueue(store.engine, [record(0, "A", "oms.order.placed"), record(1, "A", "oms.order.paid")])
    enqueue(store.engine, [record(0, "B", "oms.order.placed", partition=1)])

    [a1, b1] = sorted(due(store.engine), key=lambda d: str(orjson.loads(d.body)["subject"]))
    assert answer(store.engine, a1, 500) == PENDING
    assert answer(store.engine, b1, 204) == DELIVERED
    assert due(store.engine) == []  # A's head waits for its retry; A's second event waits behind it
    later = T0 + timedelta(seconds=10)
    [again] = due(store.engine, later)
    assert again.delivery_id == a1.delivery_id and again.attempts == 1
    assert answer(store.engine, again, 200, later) == DELIVERED
    assert answer(store.engine, again, 200, later) == "not recorded"  # a second success is never recorded
    [second] = due(store.engine, later)
    assert orjson.loads(second.body)["type"] == "oms.order.paid"


def test_a_subscriber_failing_in_a_row_is_paused_and_its_deliveries_wait(store: WebhookStore) -> None:
    subscription = store.subscribe("http://127.0.0.1:9/a", ["*"])
    enqueue(store.engine, [record(n, f"o-{n}", "oms.order.placed") for n in range(3)])
    outcomes = [answer(store.engine, item, None, pause_after=3) for item in due(store.engine)]

    assert outcomes == [PENDING, PENDING, f"paused {PENDING}"]
    assert store.subscription(subscription.subscription_id).status == PAUSED  # type: ignore[union-attr]
    assert due(store.engine, T0 + timedelta(days=1)) == []
    assert store.set_status(subscription.subscription_id, "active")
    assert len(due(store.engine, T0 + timedelta(minutes=1))) == 3


def test_a_delivery_failing_for_24_hours_is_given_up_and_its_line_moves_on(store: WebhookStore) -> None:
    store.subscribe("http://127.0.0.1:9/a", ["*"])
    enqueue(store.engine, [record(0, "A", "oms.order.placed"), record(1, "A", "oms.order.paid")])
    [head] = due(store.engine)
    answer(store.engine, head, 503)
    [head] = due(store.engine, T0 + timedelta(hours=24))

    assert answer(store.engine, head, 503, T0 + timedelta(hours=24)) == FAILED
    [next_one] = due(store.engine, T0 + timedelta(hours=24))
    assert orjson.loads(next_one.body)["type"] == "oms.order.paid"


def test_redelivery_sends_the_same_event_again_and_keeps_the_original_success(store: WebhookStore) -> None:
    subscription = store.subscribe("http://127.0.0.1:9/a", ["*"])
    enqueue(store.engine, [record(n, "A", "oms.order.placed") for n in range(3)])
    for _ in range(3):
        [head] = due(store.engine)
        answer(store.engine, head, 204)
    delivered, _ = store.deliveries(subscription.subscription_id)

    again = store.redeliver(subscription.subscription_id, delivered[0]["delivery_id"])
    since = store.redeliver_since(subscription.subscription_id, T0 - timedelta(minutes=1))
    assert store.redeliver(subscription.subscription_id, str(uuid.uuid4())) is None
    assert len(since) == 3 and again is not None
    rows, total = store.deliveries(subscription.subscription_id)
    assert total == 7 and sum(r["status"] == DELIVERED for r in rows) == 3  # the originals' successes stay
    [first] = due(store.engine, datetime.now(UTC) + timedelta(seconds=1))  # one line: the first redelivery leads
    assert first.delivery_id == again and first.event_id == delivered[0]["event_id"]
    assert [r["redelivery_of"] for r in rows[:3]] == [d["delivery_id"] for d in delivered]  # since: oldest first


@pytest.mark.parametrize(
    ("url", "patterns", "secret", "field"),
    [
        ("ftp://x", ["*"], None, "url"),
        ("http://x", [], None, "event_types"),
        ("http://x", ["oms.*.paid"], None, "event_types"),
        ("http://x", ["*"], "sekrit", "secret"),
    ],
)
def test_a_subscription_that_cannot_work_is_refused_with_its_field(
    store: WebhookStore, url: str, patterns: list[str], secret: str | None, field: str
) -> None:
    with pytest.raises(BadSubscription) as refused:
        store.subscribe(url, patterns, secret)
    assert refused.value.field == field
