"""The five public topics and what each is keyed by."""

from __future__ import annotations

ORDERS = "oms.orders"
INVENTORY = "oms.inventory"
SHIPMENTS = "oms.shipments"
NOTIFICATIONS = "oms.notifications"
DEADLETTER = "oms.deadletter"

PUBLIC_TOPICS: tuple[str, ...] = (ORDERS, INVENTORY, SHIPMENTS, NOTIFICATIONS, DEADLETTER)

TOPIC_KEYS: dict[str, str] = {
    ORDERS: "order id",
    INVENTORY: "sku",
    SHIPMENTS: "order id",
    NOTIFICATIONS: "order id",
    DEADLETTER: "key of the original message",
}
