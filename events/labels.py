"""Each event type in words a person understands: what the timeline, the feed and the CLI show instead of
`oms.order.cancel_requested`. Keyed by the event classes, so a renamed type keeps its label and a new class without
one fails `tests/unit/test_event_labels.py`."""

from __future__ import annotations

from events.base import EventData
from events.changes import OrderChanged, OrderChangeRequested, OrderRequestRefused
from events.deadletter import DeadLetterRecorded
from events.notifications import NotificationRequested, NotificationSent
from events.orders import (
    OrderAwaitingPayment,
    OrderBackorderCleared,
    OrderBackordered,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderHandedOver,
    OrderPaid,
    OrderPaymentExpired,
    OrderPlaced,
    OrderShipped,
)
from events.payments import (
    PaymentCaptureRequested,
    PaymentHoldExpired,
    PaymentRecorded,
    PaymentVoidRequested,
    RefundIssued,
    RefundReported,
)
from events.registry import EVENT_TYPES
from events.returns import ReturnAuthorized, ReturnInspected, ReturnReceived, ReturnRecorded, ReturnRequested
from events.shipments import ShipmentDelivered, ShipmentDispatched, ShipmentRequested
from events.stock import (
    StockAdjusted,
    StockCommitRequested,
    StockCommitted,
    StockIncomingScheduled,
    StockLow,
    StockReceived,
    StockReleased,
    StockReleaseRequested,
    StockReorderPolicySet,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
    StockReturned,
)

LABELS: dict[type[EventData], str] = {
    # orders
    OrderPlaced: "Order placed",
    OrderPaid: "Payment reported",
    OrderCancelRequested: "Cancellation requested",
    OrderAwaitingPayment: "Waiting for payment",
    OrderPaymentExpired: "Payment deadline passed",
    OrderBackordered: "Backordered",
    OrderBackorderCleared: "Backorder cleared",
    OrderConfirmed: "Confirmed",
    OrderCancelled: "Cancelled",
    OrderCancelRejected: "Cancellation refused",
    OrderShipped: "Parcel shipped",
    OrderDelivered: "Delivered",
    OrderHandedOver: "Handed over at the till",
    # money
    PaymentRecorded: "Payment counted",
    RefundIssued: "Refund issued",
    RefundReported: "Refund reported by the shop",
    PaymentCaptureRequested: "Capture requested",
    PaymentVoidRequested: "Authorization released",
    PaymentHoldExpired: "Unclaimed payment refunded",
    # changes
    OrderChangeRequested: "Change requested",
    OrderChanged: "Order changed",
    OrderRequestRefused: "Request refused",
    # returns
    ReturnRequested: "Return requested",
    ReturnReceived: "Return arrived at the warehouse",
    ReturnInspected: "Return inspected",
    ReturnAuthorized: "Return authorized",
    ReturnRecorded: "Return taken back",
    # stock
    StockReceived: "Stock received",
    StockIncomingScheduled: "Purchase order on its way",
    StockAdjusted: "Stock count corrected",
    StockReorderPolicySet: "Reorder point set",
    StockReservationRequested: "Stock asked for",
    StockReleaseRequested: "Stock release asked for",
    StockCommitRequested: "Stock hand-over asked for",
    StockReturned: "Returned to stock",
    StockReserved: "Stock reserved",
    StockReservationFailed: "Out of stock",
    StockReleased: "Stock released",
    StockCommitted: "Stock left the shelf",
    StockLow: "Stock running low",
    # shipping and notifications
    ShipmentRequested: "Shipment requested",
    ShipmentDispatched: "Shipment dispatched",
    ShipmentDelivered: "Carrier reported delivery",
    NotificationRequested: "Message to the customer requested",
    NotificationSent: "Message sent to the customer",
    DeadLetterRecorded: "Could not be processed",
}


def label_of(event_type: str) -> str:
    """The words for `event_type`; a type this version does not know (a newer producer's) shows as it is."""
    model = EVENT_TYPES.get(event_type)
    return LABELS.get(model, event_type) if model is not None else event_type
