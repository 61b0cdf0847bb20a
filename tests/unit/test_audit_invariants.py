"""`oms check` on a hand-written log: clean as the pipeline writes it, and each invariant broken by hand."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from decimal import Decimal

import orjson

from events import (
    DeadLetterRecorded,
    OrderShipped,
    RefundIssued,
    StockAdjusted,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
    decode,
    encode,
    natural_id,
    new_event,
)
from tests.unit.audit_support import (
    LATER,
    PREFIX,
    T0,
    TRACKING,
    HandLog,
    clean_story,
    dispatch_of,
    inbound,
    kinds,
    notify,
    placed,
    then,
)


def test_the_log_as_the_pipeline_writes_it_redeliveries_included_is_clean() -> None:
    log = HandLog()
    story = clean_story(log)
    log.add(story["dispatch"])  # one more redelivery of the dispatch, much later: same id, same parcel
    report = log.audit()
    assert report.is_clean, [violation.message for violation in report.violations]
    assert report.records_read == len(log.records)
    assert set(report.counts().values()) == {0}


# --- 1. every placed order reaches a decision -------------------------------------------------


def test_an_order_without_decision_is_found_once_older_than_the_grace() -> None:
    log = HandLog()
    clean_story(log)
    stuck = log.add(placed("o-3", {"MUG": 1}, minutes=10))
    offset = log.records[-1].offset

    report = log.audit(now=T0 + timedelta(minutes=12), grace_s=60)
    assert kinds(report) == [("order_decided", "o-3")]
    [evidence] = report.violations[0].evidence
    assert (evidence.topic, evidence.offset, evidence.event_id) == (f"{PREFIX}oms.orders", offset, str(stuck.id))
    assert evidence.fields["payment_status"] == "paid"

    assert log.audit(now=T0 + timedelta(minutes=10, seconds=30), grace_s=60).is_clean, "still within the grace"


def test_a_placement_the_order_processor_dead_lettered_is_decided() -> None:
    log = HandLog()
    clean_story(log)
    stuck = log.add(placed("o-3", {"MUG": 1}, minutes=10))
    dead = DeadLetterRecorded(
        original_key="o-3",
        source_topic=f"{PREFIX}oms.orders",
        source_partition=0,
        source_offset=log.records[-1].offset,
        processor="orders",
        kind="rejected",
        reason="refused",
        original=base64.b64encode(encode(stuck)).decode(),
    )
    log.add(inbound(dead, 11))
    assert log.audit().is_clean


# --- 2. stock in bounds at every offset of oms.inventory ---------------------------------------


def test_a_reservation_beyond_what_is_on_hand_is_found_at_its_offset() -> None:
    log = HandLog()
    story = clean_story(log)
    oversold = log.add(then(story["o-1"], "reserve:o-9", StockReserved(sku="MUG", order_id="o-9", qty=5)))

    report = log.audit()
    assert kinds(report) == [("stock_bounds", "MUG")]
    violation = report.violations[0]
    assert violation.details["bound"] == "reserved above on hand"
    assert violation.details["before"]["reserved"] == 0 and violation.details["after"]["reserved"] == 5
    assert violation.details["after"]["on_hand"] == 4
    assert violation.evidence[-1].event_id == str(oversold.id) and violation.evidence[-1].offset == 7
    assert len(violation.evidence) == 4, "the breaking event and the three before it"


def test_a_commit_without_reservation_and_beyond_supply_breaks_three_bounds() -> None:
    log = HandLog()
    clean_story(log)
    log.add(inbound(StockCommitted(sku="MUG", order_id="o-9", qty=7), 40))
    bounds = [violation.details["bound"] for violation in log.audit().violations]
    assert bounds == ["on hand below zero", "reserved below zero", "more shipped than ever supplied"]


def test_an_adjustment_counts_unless_the_inventory_processor_refused_it() -> None:
    log = HandLog()
    clean_story(log)
    adjustment = log.add(inbound(StockAdjusted(sku="MUG", delta=-100, reason="count"), 40))
    assert [v.details["bound"] for v in log.audit().violations] == ["on hand below zero", "reserved above on hand"]

    dead = DeadLetterRecorded(
        original_key="MUG",
        source_topic=f"{PREFIX}oms.inventory",
        source_partition=0,
        source_offset=7,
        processor="inventory",
        kind="rejected",
        reason="adjustment of -100 would take MUG below zero",
        original=base64.b64encode(encode(adjustment)).decode(),
    )
    log.add(new_event(dead, source="oms.pipeline.inventory", id=natural_id("dead", "MUG")))
    assert log.audit().is_clean


def dead_letter(
    position: tuple[str, int, int], kind: str, original: bytes, *, processor: str = "inventory"
) -> DeadLetterRecorded:
    topic, partition, offset = position
    return DeadLetterRecorded(
        original_key="?",
        source_topic=f"{PREFIX}{topic}",
        source_partition=partition,
        source_offset=offset,
        processor=processor,
        kind=kind,  # type: ignore[arg-type]
        reason=f"{kind} (test)",
        original=base64.b64encode(original[:100]).decode(),
    )


def test_a_stock_record_dead_lettered_for_any_reason_is_left_out() -> None:
    """Not only a refused adjustment: a record on the wrong key or partition, or over 256 KiB, was never applied."""
    log = HandLog()
    clean_story(log)
    for minutes, kind in enumerate(("wrong_key", "wrong_partition", "oversized", "invalid_key")):
        adjustment = log.add(inbound(StockAdjusted(sku="MUG", delta=-100, reason=kind), 40 + minutes))
        where = log.records[-1]
        dead = dead_letter(("oms.inventory", where.partition, where.offset), kind, encode(adjustment))
        log.add(inbound(dead, 41 + minutes))
    report = log.audit()
    assert report.is_clean, [violation.message for violation in report.violations]


def test_a_dead_letter_leaves_out_the_record_at_its_position_not_every_record_with_its_id() -> None:
    """A copy of the receipt, with the same id, sent to another partition and dead-lettered there: the receipt
    on its own partition still counts (matching the dead letter by id would take the 5 mugs away)."""
    log = HandLog()
    clean_story(log)
    receipt = next(decode(record.value) for record in log.records if record.topic == f"{PREFIX}oms.inventory")
    assert receipt.type == "oms.stock.received"
    copy = log.append(f"{PREFIX}oms.inventory", "MUG", encode(receipt), partition=1)
    log.add(inbound(dead_letter(("oms.inventory", 1, copy.offset), "wrong_partition", copy.value), 50))
    report = log.audit()
    assert report.is_clean, [violation.message for violation in report.violations]


def test_stock_is_folded_by_the_sku_in_the_data_not_the_envelope_subject() -> None:
    log = HandLog()
    clean_story(log)
    adjustment = inbound(StockAdjusted(sku="MUG", delta=-100, reason="count"), 40)
    log.add(adjustment.model_copy(update={"subject": "TEA"}))
    assert kinds(log.audit()) == [("stock_bounds", "MUG"), ("stock_bounds", "MUG")]


# --- 3. no effect twice ---------------------------------------------------------------------


def test_a_second_dispatch_of_a_parcel_with_another_id_is_found() -> None:
    log = HandLog()
    story = clean_story(log)
    again = dispatch_of(story["shipment"]).model_copy(update={"id": uuid.uuid4()})
    log.add(again)

    report = log.audit()
    assert kinds(report) == [("single_effect", "order o-1 shipment o-1-S1")]
    violation = report.violations[0]
    assert violation.details == {"effect": "dispatch", "distinct_ids": 2, "records": 3}
    assert [e.event_id for e in violation.evidence] == [str(story["dispatch"].id), str(again.id)]
    assert violation.evidence[1].fields["tracking_number"] == TRACKING


def test_a_second_reservation_and_a_second_refund_are_found() -> None:
    log = HandLog()
    story = clean_story(log)
    log.add(then(story["back"], "reserve-again", StockReserved(sku="MUG", order_id="o-2", qty=1)))
    refund = RefundIssued(order_id="o-1", amount=Decimal("10.00"), currency="EUR", reason="returned goods received")
    log.add(then(story["back"], "refund-again", refund))

    subjects = sorted(subject for invariant, subject in kinds(log.audit()) if invariant == "single_effect")
    assert subjects == [f"order o-1 return {story['back'].id}", "sku MUG order o-2"]


def test_once_only_notifications_are_found_twice_and_backorder_updates_are_not() -> None:
    log = HandLog()
    story = clean_story(log)
    notify(log, story["dispatch"], "o-1", "confirmed")  # another request, another message
    notify(log, story["back"], "o-1", "shipped", tracking_number=TRACKING)
    notify(log, story["o-2"], "o-2", "backordered", eta="2026-03-05")
    notify(log, story["back"], "o-2", "backordered", eta="2026-03-07")  # the ETA moved: a new message is right

    subjects = [subject for invariant, subject in kinds(log.audit()) if invariant == "single_effect"]
    assert subjects == ["order o-1 kind confirmed", f"order o-1 kind shipped tracking {TRACKING}"]


# --- 4. no cancelled order shipped ------------------------------------------------------------


def test_a_parcel_dispatched_for_a_cancelled_order_is_found() -> None:
    log = HandLog()
    story = clean_story(log)
    request = story["shipment"].model_copy(update={"id": uuid.uuid4(), "time": LATER})
    parcel = dispatch_of(request.model_copy(update={"data": request.data.model_copy(update={"order_id": "o-2"})}))
    log.add(parcel)
    shipped = OrderShipped(order_id="o-2", shipment_id="o-1-S1", carrier="ups", tracking_number="T2", tracking_url="u")
    log.add(then(parcel, "shipped", shipped))

    report = log.audit()
    assert kinds(report) == [("cancelled_not_shipped", "o-2")]
    violation = report.violations[0]
    assert [e.type for e in violation.evidence] == [
        "oms.order.cancelled",
        "oms.order.shipped",
        "oms.shipment.dispatched",
    ]
    assert "oms.order.shipped after the cancellation" in violation.message


# --- 5. no key's state goes back in its changelog ---------------------------------------------


def test_a_changelog_offset_that_goes_back_is_found_and_a_tombstone_starts_anew() -> None:
    log = HandLog()
    clean_story(log)
    position = f"{PREFIX}oms.inventory:0"
    log.changelog("sku_to_stock", "MUG", {position: 3})  # after 5: a restored worker rewound the key
    log.changelog("sku_to_stock", "MUG", {position: 6})
    log.changelog("order_to_state", "o-1", {"a.oms.orders:0": 4})
    log.changelog("order_to_state", "o-1", None, raw=b"")  # deleted
    log.changelog("order_to_state", "o-1", {"a.oms.orders:0": 1})

    report = log.audit()
    assert kinds(report) == [("changelog_monotonic", f"{PREFIX}oms-pipeline-sku_to_stock-changelog key MUG")]
    violation = report.violations[0]
    assert violation.details == {"positions": {position: [5, 3]}}
    assert [(e.offset, e.fields["o"][position]) for e in violation.evidence] == [(2, 5), (3, 3)]


def test_a_position_that_disappears_is_a_rewind_and_a_record_that_is_not_json_is_reported() -> None:
    log = HandLog()
    clean_story(log)
    log.changelog("sku_to_stock", "MUG", {f"{PREFIX}oms.inventory:1": 0})
    log.changelog("order_to_shipments", "o-1", None, raw=b"\x00not json")

    invariants = [invariant for invariant, _ in kinds(log.audit())]
    assert invariants == ["changelog_monotonic", "changelog_readable"]


def test_reservations_a_lagging_worker_appends_after_a_later_adjustment_are_in_bounds() -> None:
    """Chaos seed 8006: a worker decided a receipt (4 units, reserved at once for waiting orders) and, in the same
    batch, a count of -1 after it; the batch's outputs landed after the count on the log. The processor never had
    more reserved than on hand; read in log order it looked so."""
    log = HandLog()
    receipt = log.add(inbound(StockReceived(sku="JAM", qty=4)))
    log.add(inbound(StockAdjusted(sku="JAM", delta=-1, reason="cycle count")))
    for order_id, qty in (("o-1", 1), ("o-2", 1), ("o-3", 2)):
        log.add(then(receipt, f"reserve:{order_id}", StockReserved(sku="JAM", order_id=order_id, qty=qty)))
    log.add(
        then(receipt, "release:o-3", StockReleased(sku="JAM", order_id="o-3", qty=2, reason="x", was_reserved=True))
    )
    assert kinds(log.audit()) == []

    log.add(then(receipt, "reserve:o-4", StockReserved(sku="JAM", order_id="o-4", qty=5)))
    assert kinds(log.audit()) == [("stock_bounds", "JAM")], "a reservation beyond any order of the two is found"


def test_a_state_the_inventory_processor_wrote_with_more_reserved_than_on_hand_is_found() -> None:
    log = HandLog()
    clean_story(log)
    state = {"s": {"sku": "MUG", "on_hand": 2, "reservations": {"o-1": 2, "o-2": 1}}, "o": {"a.oms.inventory:0": 9}}
    log.changelog("sku_to_stock", "MUG", None, raw=orjson.dumps(state))
    report = log.audit()
    assert kinds(report) == [("stock_bounds", "MUG")]
    assert report.violations[0].details == {"bound": "reserved above on hand", "decided": {"on_hand": 2, "reserved": 3}}
