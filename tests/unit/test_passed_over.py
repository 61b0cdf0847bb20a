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


def test_a_record_is_passed_over_only_when_its_type_header_says_so() -> None:
    passed_over = {"orders": frozenset({b"oms.order.confirmed"})}
    assert passes_over(passed_over, "orders", [("oms-type", b"oms.order.confirmed")])
    assert not passes_over(passed_over, "orders", [("oms-type", b"oms.order.placed")])
    assert not passes_over(passed_over, "orders", [])  # no header (another producer): the stage decides
    assert not passes_over(passed_over, "orders", None)
    assert not passes_over(passed_over, "orders", [("other", b"oms.order.confirmed")])
    assert not passes_over(passed_over, "inventory", [("oms-type", b"oms.order.confirmed")])
