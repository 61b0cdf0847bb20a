"""The exceptions desk's fold: dead letters, refused requests, payment mismatches, backorders without an ETA, and
what became of a retry; the same rows whatever the batches, redeliveries and the replay's topic order."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from events import (
    BackorderedLine,
    DeadLetterRecorded,
    Event,
    EventData,
    OrderBackorderCleared,
    OrderBackordered,
    OrderRequestRefused,
    ReturnRequested,
    StockReservationRequested,
    caused_by,
    encode,
    new_event,
    topics,
    utc_now,
)
from events.common import LineQty
from projections.archive import Record
from projections.desk_reads import dead_letters_by_reason, get_item, items_by_status, list_items
from projections.projector import DESK, apply_records, prepare_views
from projections.rows import table_rows
from projections.tables import desk_effects, desk_items, desk_retries
from tests import builders as b

PIPELINE = "oms.pipeline.orders"


class Log:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self._next: dict[tuple[str, int], int] = {}

    def put_bytes(self, topic: str, value: bytes, partition: int = 0, key: str | None = None) -> Record:
        offset = self._next.get((topic, partition), 0)
        self._next[(topic, partition)] = offset + 1
        record = Record(topic, partition, offset, key, value)
        self.records.append(record)
        return record

    def put(self, event: Event[EventData], partition: int = 0) -> Record:
        return self.put_bytes(event.data.topic, encode(event), partition, event.subject)

    def dead_letter(self, record: Record, kind: str, processor: str = "orders") -> Event[DeadLetterRecorded]:
        data = DeadLetterRecorded(
            original_key=record.key or "", source_topic=record.topic, source_partition=record.partition,
            source_offset=record.offset, processor=processor, kind=kind, reason=f"it is {kind}",
            original=base64.b64encode(record.value).decode(), original_size=len(record.value),
        )  # fmt: skip
        letter = new_event(data, source=f"oms.pipeline.{processor}")
        self.put(letter)
        return letter


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        prepare_views(conn, DESK)
    yield engine
    engine.dispose()


def project(engine: Engine, records: list[Record], batch: int = 500) -> None:
    for start in range(0, len(records), batch):
        with engine.begin() as conn:
            apply_records(conn, DESK, records[start : start + batch])


def retry_of(item: Event[EventData], original: Event[EventData]) -> Event[EventData]:
    """What the desk publishes: the original again, under a new id caused by the item, in the item's story."""
    return original.model_copy(update={"id": uuid.uuid4(), "causationid": str(item.id), "correlationid": str(item.id)})


def refused_return(order_id: str) -> tuple[Event[EventData], Event[EventData]]:
    request = new_event(ReturnRequested(order_id=order_id, lines=(LineQty(sku="MUG", qty=1),)), source="tests")
    refusal = OrderRequestRefused(
        order_id=order_id, refused_event_id=str(request.id), refused_type=request.type,
        code="not_returnable", reason="the order has not been delivered",
    )  # fmt: skip
    return request, caused_by(request, "refused", refusal, source=PIPELINE)


def test_garbage_bytes_a_refused_return_and_a_payment_mismatch_are_items(engine: Engine) -> None:
    log = Log()
    garbage = log.put_bytes(topics.ORDERS, b"\x00not json at all", key="o-x")
    letter = log.dead_letter(garbage, "malformed_json")
    request, refusal = refused_return("o-1")
    log.put(request)
    log.put(refusal)
    paid = b.paid("o-2", "5.00")
    mismatch = OrderRequestRefused(
        order_id="o-2", refused_event_id=str(paid.id), refused_type=paid.type, code="wrong_currency", reason="USD"
    )
    log.put(paid)
    log.put(caused_by(paid, "refused", mismatch, source=PIPELINE))
    project(engine, log.records)

    with engine.connect() as conn:
        items, total = list_items(conn)
        dead = get_item(conn, str(letter.id))
        by_reason = dead_letters_by_reason(conn)
    assert total == 3
    assert sorted(item.category for item in items) == ["dead_letter", "payment", "refused"]
    assert dead is not None and dead.status == "open"
    assert (dead.kind, dead.subject, dead.event_id, dead.topic, dead.offset) == (
        "malformed_json",
        "o-x",
        None,
        topics.ORDERS,
        0,
    )
    assert base64.b64decode(dead.original or "") == b"\x00not json at all"
    refused = next(item for item in items if item.category == "refused")
    assert (refused.kind, refused.event_id, refused.event_type) == (
        "not_returnable",
        str(request.id),
        "oms.return.requested",
    )
    assert by_reason == {("orders", "malformed_json"): 1}


def test_a_failed_notification_is_listed_as_one(engine: Engine) -> None:
    log = Log()
    record = log.put_bytes(topics.NOTIFICATIONS, b'{"some": "request"}', key="o-1")
    log.dead_letter(record, "notifier_failed", processor="notify")
    project(engine, log.records)
    with engine.connect() as conn:
        [item], _ = list_items(conn, category="notification")
    assert item.kind == "notifier_failed" and item.processor == "notify"


def corrected_retry_story(log: Log) -> tuple[Event[EventData], Event[EventData], Event[EventData]]:
    """A placement sent with a wrong key, dead-lettered, retried as is (a new id), and taken by the processor."""
    placed = b.order_placed("o-7", {"MUG": 1})
    record = log.put_bytes(topics.ORDERS, encode(placed), key="not-the-order")
    letter = log.dead_letter(record, "wrong_key")
    retry = retry_of(letter, placed)
    log.put(retry)
    asked = StockReservationRequested(order_id="o-7", sku="MUG", qty=1, placed_at=utc_now())
    log.put(caused_by(retry, "reserve:MUG", asked, source=PIPELINE))
    return letter, retry, placed


def test_a_retry_the_pipeline_took_resolves_its_dead_letter(engine: Engine) -> None:
    log = Log()
    letter, retry, placed = corrected_retry_story(log)
    project(engine, log.records[:2])
    with engine.connect() as conn:
        before = get_item(conn, str(letter.id))
    project(engine, log.records)
    with engine.connect() as conn:
        after = get_item(conn, str(letter.id))
        resolved, total = list_items(conn, status="resolved")
    assert before is not None and before.status == "open" and before.event_id == str(placed.id)
    assert after is not None and after.status == "resolved"
    [outcome] = after.retries
    assert (outcome.retry_id, outcome.effects) == (str(retry.id), ("oms.stock.reservation_requested",))
    assert total == 1 and resolved[0].item_id == str(letter.id)


def test_a_retry_that_is_dead_lettered_again_fails_and_names_the_new_item(engine: Engine) -> None:
    log = Log()
    placed = b.order_placed("o-8", {"MUG": 1})
    letter = log.dead_letter(log.put_bytes(topics.ORDERS, encode(placed), key="x"), "wrong_key")
    retry = retry_of(letter, placed)
    again = log.dead_letter(log.put(retry), "wrong_partition")
    project(engine, log.records)
    with engine.connect() as conn:
        first = get_item(conn, str(letter.id))
        second = get_item(conn, str(again.id))
    assert first is not None and first.status == "failed" and first.retries[0].retry_item == str(again.id)
    assert second is not None and second.status == "open" and second.retry_of == str(letter.id)


def test_a_retried_request_refused_again_fails(engine: Engine) -> None:
    log = Log()
    request, refusal = refused_return("o-9")
    log.put(request)
    log.put(refusal)
    retry = retry_of(refusal, request)
    log.put(retry)
    code = OrderRequestRefused(
        order_id="o-9", refused_event_id=str(retry.id), refused_type=retry.type, code="not_returnable", reason="no"
    )
    log.put(caused_by(retry, "refused", code, source=PIPELINE))
    project(engine, log.records)
    with engine.connect() as conn:
        item = get_item(conn, str(refusal.id))
        counts = items_by_status(conn)
    assert item is not None and item.status == "failed"
    assert counts == {("refused", "failed"): 1, ("refused", "open"): 1}


def backordered(order_id: str, *, eta: bool = False) -> Event[EventData]:
    when = utc_now() + timedelta(days=2) if eta else None
    data = OrderBackordered(order_id=order_id, eta=when, lines=(BackorderedLine(sku="MUG", qty=2),))
    return new_event(data, source=PIPELINE)


def test_a_backorder_without_an_eta_is_open_until_it_clears_and_one_with_an_eta_is_none(engine: Engine) -> None:
    log = Log()
    log.put(new_event(OrderBackorderCleared(order_id="o-1", skus=("MUG",)), source=PIPELINE))  # before: clears nothing
    waiting = backordered("o-1")
    log.put(waiting)
    log.put(backordered("o-2", eta=True))
    project(engine, log.records)
    with engine.connect() as conn:
        [open_item], _ = list_items(conn, category="backorder")
    log.put(new_event(OrderBackorderCleared(order_id="o-1", skus=("MUG",)), source=PIPELINE))
    project(engine, log.records)
    with engine.connect() as conn:
        [cleared], _ = list_items(conn, category="backorder")
    assert open_item.item_id == str(waiting.id) and open_item.status == "open" and open_item.kind == "no_eta"
    assert cleared.status == "resolved" and cleared.cleared_at is not None


def desk_rows(engine: Engine) -> dict[str, list[dict[str, object]]]:
    with engine.connect() as conn:
        return {table.name: table_rows(conn, table) for table in (desk_items, desk_retries, desk_effects)}


def full_story() -> Log:
    log = Log()
    corrected_retry_story(log)
    request, refusal = refused_return("o-3")
    log.put(request)
    log.put(refusal)
    log.put(backordered("o-4"))
    log.put(new_event(OrderBackorderCleared(order_id="o-4", skus=("MUG",)), source=PIPELINE))
    return log


@pytest.mark.parametrize("seed", range(6))
def test_batches_redeliveries_and_the_replay_order_leave_the_same_rows(seed: int) -> None:
    log = full_story()
    live = create_engine("sqlite://", poolclass=StaticPool)
    with live.begin() as conn:
        prepare_views(conn, DESK)
    project(live, log.records)

    rng = random.Random(seed)
    other = create_engine("sqlite://", poolclass=StaticPool)
    with other.begin() as conn:
        prepare_views(conn, DESK)
    replay_order = sorted(log.records, key=lambda r: (r.topic, r.partition, r.offset))  # the archive's order
    redelivered = replay_order + rng.sample(log.records, 3)  # at-least-once: some come again
    project(other, redelivered, batch=rng.randint(1, 4))
    assert desk_rows(other) == desk_rows(live)
    assert len(desk_rows(live)["desk_effects"]) == 1


def test_money_in_a_refusal_reason_is_kept_as_text(engine: Engine) -> None:
    log = Log()
    paid = b.paid("o-5", "5.00")
    reason = f"paid {Decimal('5.00')} EUR twice"
    data = OrderRequestRefused(
        order_id="o-5", refused_event_id=str(paid.id), refused_type=paid.type, code="payment_conflict", reason=reason
    )
    log.put(caused_by(paid, "refused", data, source=PIPELINE))
    project(engine, log.records)
    with engine.connect() as conn:
        [item], _ = list_items(conn, category="payment")
    assert item.reason == reason


def test_an_event_caused_by_a_backorder_is_no_retry_of_it(engine: Engine) -> None:
    log = Log()
    waiting = backordered("o-6")
    log.put(waiting)
    cleared = OrderBackorderCleared(order_id="o-6", skus=("MUG",))
    log.put(caused_by(waiting, "cleared", cleared, source=PIPELINE))
    project(engine, log.records)
    with engine.connect() as conn:
        item = get_item(conn, str(waiting.id))
    assert item is not None and item.retries == () and item.status == "resolved"
    assert desk_rows(engine)["desk_retries"] == []
