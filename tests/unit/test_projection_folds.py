"""The pure folds behind the views: one event in, one row out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import create_engine

from events import (
    Event,
    EventData,
    LineQty,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    PaymentRecorded,
    RefundIssued,
    ShipmentRequested,
    StockCommitted,
    StockIncomingScheduled,
    StockReceived,
    StockReleased,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReserved,
    encode,
    new_event,
    topics,
    utc_now,
)
from projections.analytics_queries import percentile
from projections.archive import Record
from projections.customers import CUSTOMER_FIELDS, customer_from_orders
from projections.inventory import evolve_stock
from projections.orders import evolve_order
from projections.projector import INVENTORY, ORDERS, apply_records
from projections.rows import table_rows
from projections.sales import sales_changes
from projections.tables import create_tables, customers, inventory, order_timeline, orders
from projections.timeline import summary_of
from tests import builders as b


def fold(events: list[Event[EventData]], evolve):  # type: ignore[no-untyped-def]
    row = None
    for event in events:
        row = evolve(row, event)
    return row


def on(data: EventData) -> Event[EventData]:
    return new_event(data, source="tests")


def test_an_unpaid_order_walks_through_every_stage_on_the_processors_decisions() -> None:
    placed = b.order_placed("o-1", {"MUG": 2, "TEA": 1}, paid=False, price="2.50")
    due = utc_now() + timedelta(hours=1)
    delivered_at = utc_now() + timedelta(days=2)
    recorded = PaymentRecorded(
        order_id="o-1", payment_id="p-1", kind="captured", amount=Decimal("7.5"), currency="EUR",
        captured=Decimal("7.5"), refunded=Decimal(0), balance_due=Decimal(0),
    )  # fmt: skip
    steps = [
        placed,
        on(OrderAwaitingPayment(order_id="o-1", payment_due_at=due, amount_due=Decimal("7.50"))),
        on(OrderPaid(order_id="o-1", amount=Decimal("7.50"), payment_id="p-1")),  # the request: timeline only
        on(recorded),
        on(OrderConfirmed(order_id="o-1", skus=("MUG", "TEA"))),
        on(ShipmentRequested(order_id="o-1", shipment_id="o-1-S1", lines=(LineQty(sku="MUG", qty=2),))),
        on(OrderShipped(order_id="o-1", shipment_id="o-1-S1", carrier="c", tracking_number="T1", tracking_url="u")),
        on(OrderDelivered(order_id="o-1", delivered_at=delivered_at, shipment_id="o-1-S1", tracking_number="T1")),
    ]
    statuses = []
    row = None
    for event in steps:
        row = evolve_order(row, event)
        statuses.append((row["status"], row["payment_status"]))
    assert statuses == [
        ("awaiting_payment", "unpaid"),
        ("awaiting_payment", "unpaid"),
        ("awaiting_payment", "unpaid"),
        ("placed", "paid"),
        ("shipment_requested", "paid"),
        ("shipment_requested", "paid"),
        ("partially_shipped", "paid"),  # the parcel holds the mugs only: the tea has not left
        ("partially_delivered", "paid"),
    ]
    assert row is not None
    assert (row["total_amount"], row["captured_amount"], row["balance_due"]) == ("7.50", "7.50", "0.00")
    assert row["tracking_number"] == "T1" and row["delivered_at"] == delivered_at
    assert [(line["sku"], line["qty"], line["unit_price"]) for line in row["lines"]] == [
        ("MUG", 2, "2.50"),
        ("TEA", 1, "2.50"),
    ]


def test_cancelled_is_final_and_a_refund_does_not_mark_an_order_returned() -> None:
    cancelled = fold(
        [b.order_placed("o-2", {"MUG": 1}), on(OrderCancelled(order_id="o-2", reason="requested"))], evolve_order
    )
    late = evolve_order(cancelled, on(OrderConfirmed(order_id="o-2")))
    assert late["status"] == "cancelled" and late["cancellation_reason"] == "requested"
    refund = on(RefundIssued(order_id="o-3", amount=Decimal("4.00"), currency="EUR", reason="goodwill", cause="change"))
    refunded = fold([b.order_placed("o-3", {"MUG": 1}), refund], evolve_order)
    assert refunded["status"] == "awaiting_payment" and refunded["refunded_amount"] == "4.00"
    assert (refunded["payment_status"], refunded["balance_due"]) == ("partially_refunded", "4.00")


def test_evolve_does_not_touch_the_row_it_was_given() -> None:
    row = evolve_order(None, b.order_placed("o-4", {"MUG": 1}))
    copy = dict(row)
    evolve_order(row, on(OrderConfirmed(order_id="o-4")))
    assert row == copy


def test_sales_count_a_placement_once_and_give_back_a_cancellation() -> None:
    placed = b.order_placed("o-5", {"MUG": 3}, price="4.00", channel="pos")
    after = evolve_order(None, placed)
    [(key, delta)] = sales_changes(None, after, placed)
    assert key[1:] == ("pos", "MUG", "EUR") and delta["units"] == 3 and delta["revenue"] == Decimal("12.00")
    assert sales_changes(after, evolve_order(after, placed), placed) == []
    cancel = on(OrderCancelled(order_id="o-5", reason="x"))
    [(_, given_back)] = sales_changes(after, evolve_order(after, cancel), cancel)
    assert given_back["cancelled_units"] == 3 and given_back["units"] == 0


def test_stock_fold_follows_the_documented_rules() -> None:
    eta = utc_now() + timedelta(days=3)
    row = fold(
        [
            on(StockReorderPolicySet(sku="MUG", reorder_point=5, reorder_qty=10)),
            on(StockReceived(sku="MUG", qty=6)),
            on(StockReserved(sku="MUG", order_id="a", qty=4)),
            on(StockReservationFailed(sku="MUG", order_id="b", qty=3, reason="out of stock")),
        ],
        evolve_stock,
    )
    assert (row["on_hand"], row["reserved"], row["available"]) == (6, 4, 2)
    assert row["backorders"] == {"b": 3} and row["backordered_qty"] == 3
    assert row["is_low"] and row["suggested_reorder_qty"] == 10  # position 2 - 3 is below 5: order the policy's 10
    row = evolve_stock(row, on(StockIncomingScheduled(sku="MUG", qty=8, eta=eta, purchase_order="PO-1")))
    assert row["incoming_qty"] == 8 and row["next_eta"] == eta
    assert row["is_low"] and row["suggested_reorder_qty"] == 0  # 2 + 8 - 3 = 7: what is coming covers it
    row = evolve_stock(row, on(StockReceived(sku="MUG", qty=8, purchase_order="PO-1")))
    row = evolve_stock(row, on(StockReleased(sku="MUG", order_id="b", qty=3, reason="x", was_reserved=False)))
    row = evolve_stock(row, on(StockCommitted(sku="MUG", order_id="a", qty=4)))
    assert (row["on_hand"], row["reserved"], row["incoming"], row["backorders"]) == (10, 0, [], {})
    assert not row["is_low"] and row["suggested_reorder_qty"] == 0


def test_customer_row_ignores_cancelled_spend_and_takes_the_latest_language() -> None:
    early = evolve_order(None, b.order_placed("c-1", {"A": 1}, price="5.00", language="de", channel="web"))
    late = evolve_order(None, b.order_placed("c-2", {"A": 2}, price="5.00", language="fr", channel="pos"))
    gone = evolve_order(None, b.order_placed("c-3", {"A": 1}, price="99.00", channel="web"))
    gone = evolve_order(gone, on(OrderCancelled(order_id="c-3", reason="x")))
    back = RefundIssued(order_id="c-3", amount=Decimal(99), currency="EUR", reason="x", payment_id="c-3:placement")
    gone = evolve_order(gone, on(back.model_copy(update={"cause": "cancellation"})))
    customer = customer_from_orders("ada@example.com", [late, gone, early])
    assert customer["orders_count"] == 3 and customer["cancelled_count"] == 1
    assert customer["total_spend"] == "15.00" and customer["channels"] == ["pos", "web"]
    assert customer["language"] == "fr"
    # the customers view loads only these columns of the orders view: the row must not need another one
    slim = [{name: row[name] for name in CUSTOMER_FIELDS} for row in (late, gone, early)]
    assert customer_from_orders("ada@example.com", slim) == customer


def test_the_customers_view_follows_placements_cancellations_and_refunds_one_batch_at_a_time() -> None:
    """A customer row is refreshed only when an order changes what it reads: each step here comes in its own
    batch, so a step that changed the row without a refresh would leave it stale."""
    email = "kim@example.com"
    shipped = OrderShipped(order_id="k-1", shipment_id="s", carrier="c", tracking_number="T1", tracking_url="https://t")
    steps: list[tuple[Event[EventData], tuple[int, int, str]]] = [  # then (orders, cancelled, spend)
        (b.order_placed("k-1", {"A": 1}, price="10.00", email=email), (1, 0, "10.00")),
        (on(OrderConfirmed(order_id="k-1")), (1, 0, "10.00")),
        (b.order_placed("k-2", {"A": 2}, price="5.00", email=email, channel="pos"), (2, 0, "20.00")),
        (on(shipped), (2, 0, "20.00")),
        (on(OrderCancelled(order_id="k-2", reason="x")), (2, 1, "20.00")),
        (
            on(RefundIssued(order_id="k-2", amount=Decimal(10), currency="EUR", reason="x", cause="cancellation")),
            (2, 1, "10.00"),
        ),
        (on(RefundIssued(order_id="k-1", amount=Decimal("4.00"), currency="EUR", reason="returned")), (2, 1, "6.00")),
    ]
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        create_tables(conn, ORDERS.tables)
    for offset, (event, expected) in enumerate(steps):
        with engine.begin() as conn:
            apply_records(conn, ORDERS, [Record(topics.ORDERS, 0, offset, event.subject, encode(event))])
            [row] = table_rows(conn, customers)
        assert (row["orders_count"], row["cancelled_count"], row["total_spend"]) == expected, event.type
    assert row["channels"] == ["pos", "web"]


def test_the_orders_projection_folds_a_redelivered_event_once_and_keeps_its_first_timeline_row() -> None:
    placed = b.order_placed("r-1", {"A": 1}, price="10.00")
    refund = on(RefundIssued(order_id="r-1", amount=Decimal("4.00"), currency="EUR", reason="damaged"))
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        create_tables(conn, ORDERS.tables)
        first = [Record(topics.ORDERS, 0, 0, "r-1", encode(placed)), Record(topics.ORDERS, 0, 1, "r-1", encode(refund))]
        assert apply_records(conn, ORDERS, [*first, Record(topics.ORDERS, 1, 0, "r-1", encode(refund))]) == 2
        assert apply_records(conn, ORDERS, [Record(topics.ORDERS, 0, 2, "r-1", encode(refund))]) == 0  # re-emitted
        [order] = table_rows(conn, orders)
        [customer] = table_rows(conn, customers)
        timeline = table_rows(conn, order_timeline)
    assert order["refunded_amount"] == "4.00" and customer["total_spend"] == "6.00"
    assert [(row["partition"], row["offset"]) for row in sorted(timeline, key=lambda r: r["offset"])] == [
        (0, 0),
        (0, 1),
    ]


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([], 0.5) is None


def test_every_event_gets_a_readable_summary() -> None:
    assert "placed via web" in summary_of(b.order_placed("o-9", {"MUG": 1}))


def test_apply_records_drops_redelivered_ids_and_skips_tracked_offsets() -> None:
    engine = create_engine("sqlite://")
    received = encode(on(StockReceived(sku="MUG", qty=5)))
    same_id_twice = [Record("oms.inventory", 0, 0, "MUG", received), Record("oms.inventory", 0, 1, "MUG", received)]
    with engine.begin() as conn:
        create_tables(conn, INVENTORY.tables)
        assert apply_records(conn, INVENTORY, same_id_twice) == 1
        assert apply_records(conn, INVENTORY, same_id_twice) == 0
        assert apply_records(conn, INVENTORY, [Record("oms.inventory", 0, 2, "MUG", b"not json")]) == 0
        [row] = table_rows(conn, inventory)
    assert row["on_hand"] == 5
