"""The event contract: CloudEvents envelope, one frozen model per type, registry and codec.

Imports nothing of ours: everything else in the project depends on this package, never the reverse.
"""

from events import topics
from events.base import EventData, utc_now
from events.changes import LineChange, OrderChanged, OrderChangeRequested, OrderRequestRefused
from events.codec import DecodeError, check_envelope, decode, decode_envelope, encode, parse_envelope
from events.common import Address, Customer, LineQty, OrderLine, is_deliverable
from events.deadletter import DeadLetterRecorded
from events.envelope import Event, caused_by, derived_id, natural_id, new_event
from events.notifications import NotificationRequested, NotificationSent
from events.orders import (
    BackorderedLine,
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
from events.registry import ALL_EVENT_MODELS, EVENT_TYPES, model_for
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

__all__ = [
    "ALL_EVENT_MODELS",
    "EVENT_TYPES",
    "Address",
    "BackorderedLine",
    "Customer",
    "DeadLetterRecorded",
    "DecodeError",
    "Event",
    "EventData",
    "LineChange",
    "LineQty",
    "NotificationRequested",
    "NotificationSent",
    "OrderAwaitingPayment",
    "OrderBackorderCleared",
    "OrderBackordered",
    "OrderCancelRejected",
    "OrderCancelRequested",
    "OrderCancelled",
    "OrderChangeRequested",
    "OrderChanged",
    "OrderConfirmed",
    "OrderDelivered",
    "OrderHandedOver",
    "OrderLine",
    "OrderPaid",
    "OrderPaymentExpired",
    "OrderPlaced",
    "OrderRequestRefused",
    "OrderShipped",
    "PaymentCaptureRequested",
    "PaymentHoldExpired",
    "PaymentRecorded",
    "PaymentVoidRequested",
    "RefundIssued",
    "RefundReported",
    "ReturnAuthorized",
    "ReturnInspected",
    "ReturnReceived",
    "ReturnRecorded",
    "ReturnRequested",
    "ShipmentDelivered",
    "ShipmentDispatched",
    "ShipmentRequested",
    "StockAdjusted",
    "StockCommitRequested",
    "StockCommitted",
    "StockIncomingScheduled",
    "StockLow",
    "StockReceived",
    "StockReleaseRequested",
    "StockReleased",
    "StockReorderPolicySet",
    "StockReservationFailed",
    "StockReservationRequested",
    "StockReserved",
    "StockReturned",
    "caused_by",
    "check_envelope",
    "decode",
    "decode_envelope",
    "derived_id",
    "encode",
    "is_deliverable",
    "model_for",
    "natural_id",
    "new_event",
    "parse_envelope",
    "topics",
    "utc_now",
]
