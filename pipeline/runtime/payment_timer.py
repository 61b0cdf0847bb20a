"""The payment timer: unpaid orders past their deadline are told to the order processor, which decides."""

from __future__ import annotations

from datetime import UTC, datetime

from events import encode, topics
from pipeline.config import PipelineConfig
from pipeline.rules.order_deadlines import is_payment_overdue, payment_expired
from pipeline.rules.orders import OrderState
from pipeline.runtime.stage_runner import StageRunner
from pipeline.stages.records import Message


class PaymentExpiry:
    """Finds unpaid orders past their deadline and asks the order processor to expire them.

    It keeps an index of the open deadlines, fed by every order state the order stage writes, so a tick
    costs the number of unpaid orders, not the number of orders. One scan of each partition's states builds it
    once the partition is restored.
    """

    def __init__(self, config: PipelineConfig, orders: StageRunner[OrderState]) -> None:
        self.config = config
        self.orders = orders
        self.deadlines: dict[str, tuple[int, datetime]] = {}  # order id -> its partition and deadline
        self.announced: set[tuple[str, datetime]] = set()  # a changed order gets a new deadline, announced anew
        self._scanned: set[int] = set()
        orders.on_saved = self.track

    def track(self, order_id: str, partition: int, state: OrderState | None) -> None:
        if state is not None and is_payment_overdue(state, _END_OF_TIME) and state.payment_due_at is not None:
            self.deadlines[order_id] = (partition, state.payment_due_at)
        else:
            self.deadlines.pop(order_id, None)

    async def due_messages(self, now: datetime) -> list[Message]:
        state = self.orders.state
        await state.restore(state.owned)
        for partition in state.restored_partitions():
            if partition not in self._scanned:
                for key, raw in state.items(partition):
                    self.track(key.decode(), partition, self.orders.codec.loads(raw).state)
                self._scanned.add(partition)
        messages: list[Message] = []
        for order_id, (partition, due) in list(self.deadlines.items()):
            if due > now or (order_id, due) in self.announced or not state.is_restored(partition):
                continue
            order = self.orders.load(order_id, partition).state
            if order is None or not is_payment_overdue(order, now):
                continue
            event = payment_expired(order, now)
            messages.append((self.config.topic(topics.ORDERS), order_id.encode(), encode(event), event.type))
            self.announced.add((order_id, due))
        return messages


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
