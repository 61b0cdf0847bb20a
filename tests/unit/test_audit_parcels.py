"""`oms check`'s shipping hand-offs on a hand-written log: every parcel asked for leaves (or the carrier refused it),
and every parcel that left is applied to its order and its stock committed."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta

from adapters.audit.report import AuditReport
from adapters.audit.watch import CheckMetrics, watch
from events import (
    DeadLetterRecorded,
    Event,
    EventData,
    LineQty,
    OrderConfirmed,
    OrderShipped,
    ShipmentRequested,
    StockCommitRequested,
    StockCommitted,
    StockReserved,
    encode,
)
from tests.unit.audit_support import PREFIX, T0, HandLog, clean_story, dispatch_of, kinds, placed, then

GRACE_S = 60


def confirmed_order(log: HandLog, order_id: str = "o-3") -> Event[EventData]:
    """A paid order of 1 MUG, reserved and confirmed, its parcel requested (and nothing after); returns the request."""
    order = log.add(placed(order_id, {"MUG": 1}, minutes=10))
    reserved = log.add(then(order, "reserve:MUG", StockReserved(sku="MUG", order_id=order_id, qty=1)))
    log.add(then(reserved, "confirmed", OrderConfirmed(order_id=order_id, skus=("MUG",))))
    request = ShipmentRequested(order_id=order_id, shipment_id=f"{order_id}-S1", lines=(LineQty(sku="MUG", qty=1),))
    return log.add(then(reserved, f"ship:{order_id}-S1", request))


def dead_letter(log: HandLog, of: Event[EventData], processor: str, kind: str, reason: str) -> Event[EventData]:
    """The dead letter of the record `of` was last appended as (so call it right after appending `of`)."""
    where = next(record for record in reversed(log.records) if record.value == encode(of))
    letter = DeadLetterRecorded(
        original_key=of.subject,
        source_topic=where.topic,
        source_partition=where.partition,
        source_offset=where.offset,
        processor=processor,
        kind=kind,  # type: ignore[arg-type]
        reason=reason,
        original=base64.b64encode(where.value).decode(),
    )
    return log.add(then(of, f"dead:{processor}", letter))


def audit_at(log: HandLog, at: datetime) -> list[tuple[str, str]]:
    return kinds(log.audit(now=at, grace_s=GRACE_S))


def test_the_clean_story_has_every_parcel_dispatched_and_applied() -> None:
    log = HandLog()
    clean_story(log)
    counts = log.audit().counts()
    assert counts["shipment_dispatched"] == counts["dispatch_applied"] == 0
    assert log.audit().is_clean


# --- every request gets a dispatch or a carrier_failed dead letter --------------------------------


def test_a_request_never_dispatched_is_found_once_older_than_the_grace() -> None:
    log = HandLog()
    clean_story(log)
    request = confirmed_order(log)
    assert audit_at(log, request.time + timedelta(seconds=30)) == [], "still within the grace"

    report = log.audit(now=request.time + timedelta(minutes=5), grace_s=GRACE_S)
    assert kinds(report) == [("shipment_dispatched", "o-3 o-3-S1")]
    [evidence] = report.violations[0].evidence
    assert (evidence.type, evidence.event_id) == ("oms.shipment.requested", str(request.id))
    assert report.violations[0].details["age_s"] == 300


def test_a_carrier_failure_answers_a_request_and_another_dead_letter_does_not() -> None:
    failed, forged = HandLog(), HandLog()
    for log in (failed, forged):
        clean_story(log)
    request = confirmed_order(failed)
    dead_letter(failed, request, "shipping", "carrier_failed", "ups refused the booking 5 times")
    assert audit_at(failed, request.time + timedelta(hours=1)) == []

    request = confirmed_order(forged)
    letter = dead_letter(forged, request, "shipping", "wrong_key", "the record's key is 'x'")
    report = forged.audit(now=request.time + timedelta(hours=1), grace_s=GRACE_S)
    assert kinds(report) == [("shipment_dispatched", "o-3 o-3-S1")]
    assert "wrong_key" in report.violations[0].message
    assert [item.event_id for item in report.violations[0].evidence] == [str(request.id), str(letter.id)]


# --- every dispatch is applied: shipped, and its stock committed -----------------------------------


def test_a_dispatch_the_order_processor_never_applied_is_found_once_older_than_the_grace() -> None:
    """The chaos engineer's order: confirmed for ever after its parcel left."""
    log = HandLog()
    clean_story(log)
    dispatch = log.add(dispatch_of(confirmed_order(log), tracking="1Z3"))
    assert audit_at(log, dispatch.time + timedelta(seconds=30)) == []

    report = log.audit(now=dispatch.time + timedelta(minutes=2), grace_s=GRACE_S)
    assert kinds(report) == [("dispatch_applied", "o-3 o-3-S1")]
    assert "no oms.order.shipped" in report.violations[0].message
    assert [item.event_id for item in report.violations[0].evidence] == [str(dispatch.id)]


def test_a_dispatch_shipped_but_whose_stock_was_never_committed_is_found_with_the_refused_commit() -> None:
    log = HandLog()
    clean_story(log)
    dispatch = log.add(dispatch_of(confirmed_order(log), tracking="1Z3"))
    shipped = OrderShipped(order_id="o-3", shipment_id="o-3-S1", carrier="ups", tracking_number="1Z3", tracking_url="u")
    log.add(then(dispatch, "shipped", shipped))
    commit = log.add(then(dispatch, "commit:MUG", StockCommitRequested(sku="MUG", order_id="o-3", qty=1)))
    letter = dead_letter(log, commit, "inventory", "rejected", "commit of 1 x MUG does not match its reservation")

    report = log.audit(now=dispatch.time + timedelta(minutes=2), grace_s=GRACE_S)
    assert kinds(report) == [("dispatch_applied", "o-3 o-3-S1")]
    violation = report.violations[0]
    assert "never committed: MUG" in violation.message and violation.details["uncommitted"] == ["MUG"]
    assert [item.event_id for item in violation.evidence] == [str(dispatch.id), str(commit.id), str(letter.id)]

    log.add(then(commit, "committed", StockCommitted(sku="MUG", order_id="o-3", qty=1)))
    assert audit_at(log, dispatch.time + timedelta(minutes=2)) == [], "committed after all"


def test_a_dispatch_the_order_processor_dead_lettered_is_found_at_once() -> None:
    """A parcel left for an order that refused it: reported whatever its age."""
    log = HandLog()
    clean_story(log)
    dispatch = log.add(dispatch_of(confirmed_order(log), tracking="1Z3"))
    letter = dead_letter(log, dispatch, "orders", "rejected", "dispatched after order o-3 was cancelled")

    report = log.audit(now=dispatch.time + timedelta(seconds=1), grace_s=GRACE_S)
    assert kinds(report) == [("dispatch_applied", "o-3 o-3-S1")]
    violation = report.violations[0]
    assert "refused it" in violation.message and "dispatched after order o-3 was cancelled" in violation.message
    assert [item.event_id for item in violation.evidence] == [str(dispatch.id), str(letter.id)]


def test_a_refused_copy_of_a_dispatch_the_order_applied_is_no_finding() -> None:
    """A copy of the clean story's dispatch on another partition, dead-lettered there: the parcel was applied."""
    log = HandLog()
    story = clean_story(log)
    copy = log.append(f"{PREFIX}oms.shipments", "o-1", encode(story["dispatch"]), partition=1)
    letter = DeadLetterRecorded(
        original_key="o-1",
        source_topic=copy.topic,
        source_partition=1,
        source_offset=copy.offset,
        processor="orders",
        kind="wrong_partition",
        reason="key 'o-1' belongs on partition 0",
        original=base64.b64encode(copy.value).decode(),
    )
    log.add(then(story["dispatch"], "dead", letter))
    assert audit_at(log, T0 + timedelta(hours=2)) == []


async def test_watch_exports_the_shipping_hand_offs_like_the_other_invariants() -> None:
    log = HandLog()
    clean_story(log)
    dispatch = log.add(dispatch_of(confirmed_order(log), tracking="1Z3"))
    confirmed_order(log, "o-4")
    reports = [log.audit(now=dispatch.time + timedelta(minutes=5), grace_s=GRACE_S)]
    metrics, stop = CheckMetrics(), asyncio.Event()

    async def audit() -> AuditReport:
        stop.set()
        return reports.pop()

    await watch(audit, metrics, stop, interval_s=0.01, on_report=lambda _: None, on_failure=lambda _: None)
    exported = metrics.exposition().decode()
    assert 'oms_check_violations{invariant="dispatch_applied"} 1.0' in exported
    assert 'oms_check_violations{invariant="shipment_dispatched"} 1.0' in exported
    assert 'oms_check_runs_total{outcome="violations"} 1.0' in exported
