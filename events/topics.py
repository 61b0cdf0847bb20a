"""The five public topics and what each is keyed by."""

from __future__ import annotations

ORDERS = "oms.orders"
INVENTORY = "oms.inventory"
SHIPMENTS = "oms.shipments"
NOTIFICATIONS = "oms.notifications"
DEADLETTER = "oms.deadletter"

PUBLIC_TOPICS: tuple[str, ...] = (ORDERS, INVENTORY, SHIPMENTS, NOTIFICATIONS, DEADLETTER)

ORDER_REPLIES = "oms-pipeline-order-replies"
"""Internal, not part of the contract: the inventory processor's answers re-keyed by order id. Named here
so the history archive can keep it too (the embedded mode restores the whole log from the archive)."""

SHIPMENT_REQUESTS = "oms-pipeline-shipment-requests"
"""Internal, not part of the contract: the order processor's `oms.shipment.requested`, also written here for the
shipping stage, so that every topic has one reading stage (faust's delivery of one record to two streams counts
references, and a record one stream never took held a rebalance for good)."""

TOPIC_KEYS: dict[str, str] = {
    ORDERS: "order id",
    INVENTORY: "sku",
    SHIPMENTS: "order id",
    NOTIFICATIONS: "order id",
    DEADLETTER: "key of the original message",
}
