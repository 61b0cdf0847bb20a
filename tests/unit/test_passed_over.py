"""Which records a worker acknowledges without handing them to a stage: only types every reader ignores."""

from __future__ import annotations

from pipeline.runtime.app import ignored_by_every_reader
from pipeline.runtime.faust_internals import passes_over


def test_a_topic_read_by_two_stages_passes_over_only_what_both_ignore() -> None:
    passed_over = ignored_by_every_reader(
        [
            (("orders", "shipments"), frozenset({"oms.order.confirmed", "oms.shipment.requested"})),
            (("shipments",), frozenset({"oms.shipment.dispatched"})),
            (("notifications",), frozenset({"oms.notification.sent"})),
        ]
    )
    assert passed_over == {
        "orders": frozenset({b"oms.order.confirmed", b"oms.shipment.requested"}),
        "notifications": frozenset({b"oms.notification.sent"}),
    }


OURS = b'{"specversion":"1.0","id":"x","source":"oms.pipeline.orders","type":"oms.order.confirmed","data":{}}'


def test_a_record_is_passed_over_only_when_its_type_header_says_so() -> None:
    passed_over = {"orders": frozenset({b"oms.order.confirmed"})}
    assert passes_over(passed_over, "orders", [("oms-type", b"oms.order.confirmed")], OURS)
    assert not passes_over(passed_over, "orders", [("oms-type", b"oms.order.placed")], OURS)
    assert not passes_over(passed_over, "orders", [], OURS)  # no header (another producer): the stage decides
    assert not passes_over(passed_over, "orders", None, OURS)
    assert not passes_over(passed_over, "orders", [("other", b"oms.order.confirmed")], OURS)
    assert not passes_over(passed_over, "inventory", [("oms-type", b"oms.order.confirmed")], OURS)


def test_a_header_any_producer_can_set_does_not_pass_over_a_record_that_says_otherwise() -> None:
    """Chaos finding: a placement sent with a forged `oms-type: oms.order.confirmed` was never decided."""
    passed_over = {"orders": frozenset({b"oms.order.confirmed"})}
    header = [("oms-type", b"oms.order.confirmed")]
    placement = OURS.replace(b"oms.order.confirmed", b"oms.order.placed").replace(b"oms.pipeline.orders", b"shop")
    assert not passes_over(passed_over, "orders", header, placement)
    assert not passes_over(passed_over, "orders", header, OURS.replace(b"oms.pipeline.orders", b"shop"))
    assert not passes_over(passed_over, "orders", header, None)
