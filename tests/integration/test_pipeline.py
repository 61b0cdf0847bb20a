"""The stream processors on the real embedded broker, driven through their topics."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from adapters.bootstrap import ensure_pipeline_topics, pipeline_config
from adapters.kafka.offsets import log_end_offsets
from adapters.settings import Settings
from events import ReturnReceived, ReturnRequested, ShipmentDelivered, new_event, topics, utc_now
from events.common import LineQty
from tests import builders as b
from tests.integration.harness import Logged, Worker, of_type, produce, produce_raw, read_topic, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"p{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="module")
async def worker(kafka_bootstrap: str, prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    settings = Settings(topic_prefix=prefix, partitions=4)
    await ensure_pipeline_topics(pipeline_config(settings, kafka_bootstrap))
    running = Worker(kafka_bootstrap, prefix, tmp_path_factory.mktemp("worker"), payment_timeout_s=6).start()
    yield running
    running.stop()


def fold_stock(logged: list[Logged], sku: str) -> list[tuple[int, int]]:
    """(on hand, reserved) after every event of `sku` on the inventory log, in log order."""
    on_hand = reserved = 0
    history = []
    for item in logged:
        event = item.event
        if event is None or event.subject != sku:
            continue
        data = event.data
        match event.type:
            case "oms.stock.received" | "oms.stock.returned":
                on_hand += data.qty  # type: ignore[attr-defined]
            case "oms.stock.adjusted":
                on_hand += data.delta  # type: ignore[attr-defined]
            case "oms.stock.reserved":
                reserved += data.qty  # type: ignore[attr-defined]
            case "oms.stock.released" if data.was_reserved:  # type: ignore[attr-defined]
                reserved -= data.qty  # type: ignore[attr-defined]
            case "oms.stock.committed":
                on_hand -= data.qty  # type: ignore[attr-defined]
                reserved -= data.qty  # type: ignore[attr-defined]
        history.append((on_hand, reserved))
    return history


async def test_paid_two_line_order_is_shipped_with_tracking_and_notified(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    mug, tea = b.unique_sku("MUG"), b.unique_sku("TEA")
    order = b.order_placed(lines={mug: 2, tea: 1})
    await produce(kafka_bootstrap, prefix, [b.stock_received(mug, 5), b.stock_received(tea, 5), order])
    order_id = order.data.order_id

    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.shipped", order_id=order_id)),
        worker=worker,
    )
    shipped = of_type(orders_log, "oms.order.shipped", order_id=order_id)[0]
    assert shipped.data.tracking_number  # type: ignore[attr-defined]
    assert shipped.data.tracking_url.startswith("https://")  # type: ignore[attr-defined]
    assert of_type(orders_log, "oms.order.confirmed", order_id=order_id)

    sent = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.NOTIFICATIONS}",
        lambda log: (
            {e.data.kind for e in of_type(log, "oms.notification.sent", order_id=order_id)}  # type: ignore[attr-defined]
            >= {"confirmed", "shipped"}
        ),
        worker=worker,
    )
    assert len(of_type(sent, "oms.notification.sent", order_id=order_id)) == 2
    outbox = list((worker.data_dir / "outbox").glob("*.eml"))
    assert any(shipped.data.tracking_number in p.read_text() for p in outbox)  # type: ignore[attr-defined]

    inventory = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: len(of_type(log, "oms.stock.committed", order_id=order_id)) == 2,
        worker=worker,
    )
    assert fold_stock(inventory, mug)[-1] == (3, 0)


async def test_the_group_commits_past_the_outputs_it_passes_over(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    """The notifications topic ends with `notification.sent` records, which the worker acknowledges without
    handing them to a stage: the group's committed offsets still reach the end of the log."""
    sku = b.unique_sku("CUP")
    order = b.order_placed(lines={sku: 1})
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 1), order])
    notifications = f"{prefix}{topics.NOTIFICATIONS}"
    await wait_for(
        kafka_bootstrap,
        notifications,
        lambda log: len(of_type(log, "oms.notification.sent", order_id=order.data.order_id)) == 2,
        worker=worker,
    )
    ends = await log_end_offsets(kafka_bootstrap, [notifications])
    written = {TopicPartition(t, p): end for (t, p), end in ends.items() if end > 0}
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=f"{prefix}oms-pipeline")
    await consumer.start()
    try:
        committed: dict[TopicPartition, int | None] = {}
        for _ in range(100):  # the worker commits every half second
            committed = {tp: await consumer.committed(tp) for tp in written}
            if committed == written:
                break
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()
    assert committed == written


async def test_200_concurrent_orders_on_50_units_never_oversell(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    sku = b.unique_sku("HOT")
    orders = [b.order_placed(lines={sku: 1}) for _ in range(200)]
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 50), *orders])

    def settled(log: list[Logged]) -> bool:
        answered = of_type(log, "oms.stock.reserved", sku=sku) + of_type(log, "oms.stock.reservation_failed", sku=sku)
        return len(answered) >= 200

    inventory = await wait_for(kafka_bootstrap, f"{prefix}{topics.INVENTORY}", settled, worker=worker)
    reserved = of_type(inventory, "oms.stock.reserved", sku=sku)
    failed = of_type(inventory, "oms.stock.reservation_failed", sku=sku)
    assert len({e.data.order_id for e in reserved}) == 50  # type: ignore[attr-defined]
    assert len({e.data.order_id for e in failed}) == 150  # type: ignore[attr-defined]
    history = fold_stock(inventory, sku)
    assert all(reserved_qty <= on_hand for on_hand, reserved_qty in history), "oversold at some offset"
    # The orders are paid, so the first ones may already have shipped (stock committed) by now.
    shipped = len(of_type(inventory, "oms.stock.committed", sku=sku))
    assert history[-1] == (50 - shipped, 50 - shipped)

    ids = {o.data.order_id for o in orders}
    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: len({e.subject for e in of_type(log, "oms.order.backordered") if e.subject in ids}) == 150,
        worker=worker,
    )
    confirmed = {e.subject for e in of_type(orders_log, "oms.order.confirmed") if e.subject in ids}
    assert len(confirmed) == 50


async def test_restock_confirms_backorders_first_in_first_out(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    sku = b.unique_sku("LAMP")
    orders = [b.order_placed(lines={sku: 1}) for _ in range(3)]
    await produce(kafka_bootstrap, prefix, [b.incoming(sku, 2, "PO-1", in_days=4), *orders])
    await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: {e.subject for e in of_type(log, "oms.order.backordered")} >= {o.subject for o in orders},
        worker=worker,
    )
    inventory = await read_topic(kafka_bootstrap, f"{prefix}{topics.INVENTORY}")
    # Requests from different order partitions may arrive out of placed order; an older order then goes
    # ahead in the queue and the others get a corrected ETA. The latest answer per order counts.
    latest_eta = {e.data.order_id: e.data.eta for e in of_type(inventory, "oms.stock.reservation_failed", sku=sku)}  # type: ignore[attr-defined]
    etas = [latest_eta[o.data.order_id] for o in orders]
    assert etas[0] is not None and etas[1] is not None, "the purchase order covers the first two"
    assert etas[2] is None, "nothing incoming covers the third"

    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 2, purchase_order="PO-1")])
    inventory = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: len(of_type(log, "oms.stock.reserved", sku=sku)) == 2,
        worker=worker,
    )
    served = [e.data.order_id for e in of_type(inventory, "oms.stock.reserved", sku=sku)]  # type: ignore[attr-defined]
    assert served == [orders[0].data.order_id, orders[1].data.order_id]


async def test_cancellation_releases_stock_to_the_next_backorder(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    sku = b.unique_sku("BIKE")
    # Paid, but its second line waits for stock: it holds the bike without shipping (ships complete).
    holder = b.order_placed(lines={sku: 1, b.unique_sku("NONE"): 1})
    waiting = b.order_placed(lines={sku: 1})
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 1), holder])
    await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: bool(of_type(log, "oms.stock.reserved", order_id=holder.data.order_id)),
        worker=worker,
    )
    # Only now the second order: requests from two order partitions may reach the sku in either order.
    await produce(kafka_bootstrap, prefix, [waiting])
    await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: bool(of_type(log, "oms.stock.reservation_failed", order_id=waiting.data.order_id)),
        worker=worker,
    )
    await produce(kafka_bootstrap, prefix, [b.cancel(holder.data.order_id, reason="customer changed mind")])

    inventory = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: bool(of_type(log, "oms.stock.reserved", order_id=waiting.data.order_id)),
        worker=worker,
    )
    # The holder's other line (never reserved) is released too, on another sku and maybe another partition.
    released = of_type(inventory, "oms.stock.released", order_id=holder.data.order_id, sku=sku)
    assert released and released[0].data.was_reserved  # type: ignore[attr-defined]
    assert of_type(inventory, "oms.stock.reserved", order_id=waiting.data.order_id)[0].data.from_backorder  # type: ignore[attr-defined]
    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.confirmed", order_id=waiting.data.order_id)),
        worker=worker,
    )
    cancelled = of_type(orders_log, "oms.order.cancelled", order_id=holder.data.order_id)
    assert [e.data.reason for e in cancelled] == ["customer changed mind"]  # type: ignore[attr-defined]


async def test_payment_timeout_cancels_and_releases(kafka_bootstrap: str, prefix: str, worker: Worker) -> None:
    sku = b.unique_sku("SOFA")
    unpaid = b.order_placed(lines={sku: 2}, paid=False)
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 2), unpaid])
    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.cancelled", order_id=unpaid.data.order_id)),
        seconds=30,
        worker=worker,
    )
    cancelled = of_type(orders_log, "oms.order.cancelled", order_id=unpaid.data.order_id)[0]
    assert "payment" in cancelled.data.reason  # type: ignore[attr-defined]
    inventory = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: bool(of_type(log, "oms.stock.released", order_id=unpaid.data.order_id)),
        worker=worker,
    )
    assert fold_stock(inventory, sku)[-1] == (2, 0)


async def test_bad_messages_are_dead_lettered_and_the_stream_goes_on(
    kafka_bootstrap: str, prefix: str, worker: Worker
) -> None:
    orders_topic = f"{prefix}{topics.ORDERS}"
    await produce_raw(kafka_bootstrap, orders_topic, b"bad-1", b'{"this is": not json')
    unknown = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "tests",
        "type": "oms.order.teleported",
        "time": "2026-01-01T00:00:00Z",
        "data": {},
    }
    await produce_raw(kafka_bootstrap, orders_topic, b"bad-2", orjson.dumps(unknown))
    sku = b.unique_sku("OK")
    good = b.order_placed(lines={sku: 1})
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 1), good])

    dead = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.DEADLETTER}",
        lambda log: {e.data.original_key for e in of_type(log, "oms.deadletter.recorded")} >= {"bad-1", "bad-2"},  # type: ignore[attr-defined]
        worker=worker,
    )
    by_key = {e.data.original_key: e.data for e in of_type(dead, "oms.deadletter.recorded")}  # type: ignore[attr-defined]
    assert by_key["bad-1"].kind == "malformed_json"
    assert by_key["bad-2"].kind == "unknown_type" and "oms.order.teleported" in by_key["bad-2"].reason
    assert base64.b64decode(by_key["bad-1"].original) == b'{"this is": not json'
    await wait_for(
        kafka_bootstrap,
        orders_topic,
        lambda log: bool(of_type(log, "oms.order.confirmed", order_id=good.data.order_id)),
        worker=worker,
    )


async def test_return_restocks_and_refunds(kafka_bootstrap: str, prefix: str, worker: Worker) -> None:
    sku = b.unique_sku("COAT")
    order = b.order_placed(lines={sku: 2}, price="49.50")
    order_id = order.data.order_id
    await produce(kafka_bootstrap, prefix, [b.stock_received(sku, 2), order])
    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.shipped", order_id=order_id)),
        worker=worker,
    )
    tracking = of_type(orders_log, "oms.order.shipped", order_id=order_id)[0].data.tracking_number  # type: ignore[attr-defined]
    delivered = ShipmentDelivered(order_id=order_id, tracking_number=tracking, delivered_at=utc_now())
    requested = ReturnRequested(order_id=order_id, lines=(LineQty(sku=sku, qty=1),), reason="too small")
    received = ReturnReceived(order_id=order_id, lines=(LineQty(sku=sku, qty=1),), resellable=True)
    await produce(kafka_bootstrap, prefix, [new_event(delivered, source="tests")])
    await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.order.delivered", order_id=order_id)),
        worker=worker,
    )
    await produce(kafka_bootstrap, prefix, [new_event(requested, source="tests"), new_event(received, source="tests")])
    orders_log = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.ORDERS}",
        lambda log: bool(of_type(log, "oms.refund.issued", order_id=order_id)),
        worker=worker,
    )
    refund = of_type(orders_log, "oms.refund.issued", order_id=order_id)[0]
    assert str(refund.data.amount) == "49.50"  # type: ignore[attr-defined]
    inventory = await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: bool(of_type(log, "oms.stock.returned", order_id=order_id)),
        worker=worker,
    )
    await wait_for(
        kafka_bootstrap,
        f"{prefix}{topics.INVENTORY}",
        lambda log: fold_stock(log, sku)[-1] == (1, 0),
        worker=worker,
    )
    assert inventory
