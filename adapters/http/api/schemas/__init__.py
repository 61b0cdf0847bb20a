"""Request and response bodies of the HTTP API. They are not the events: the routes translate. One module per
kind of body: problems (errors), actions (what is sent, and its receipt), reads (what every read shares), then the
reads of orders, inventory and customers."""

from adapters.http.api.schemas.actions import (
    ORDER_ID_PATTERN,
    SKU_PATTERN,
    ActionAccepted,
    CancelCreate,
    CsvOrderAccepted,
    DeliveryReport,
    IncomingStockCreate,
    IntakeAccepted,
    PaymentCreate,
    ReorderPolicyUpdate,
    ReturnCreate,
    ReturnLine,
    ReturnReceiptCreate,
    StockAdjustmentCreate,
    StockReceiptCreate,
)
from adapters.http.api.schemas.customers import Amount, Analytics, ChannelSales, CustomerSummary, SkuSales
from adapters.http.api.schemas.inventory import InventoryItem, SkuDetail
from adapters.http.api.schemas.orders import (
    OrderDetail,
    OrderLinePublic,
    OrderSummary,
    ParcelLine,
    ParcelPublic,
    PaymentPublic,
    ReturnPublic,
    TimelineEntry,
    TrackingParcel,
    TrackingPublic,
)
from adapters.http.api.schemas.problems import FieldProblem, Problem
from adapters.http.api.schemas.reads import Page, ReadSchema

__all__ = [
    "ORDER_ID_PATTERN",
    "SKU_PATTERN",
    "ActionAccepted",
    "Amount",
    "Analytics",
    "CancelCreate",
    "ChannelSales",
    "CsvOrderAccepted",
    "CustomerSummary",
    "DeliveryReport",
    "FieldProblem",
    "IncomingStockCreate",
    "IntakeAccepted",
    "InventoryItem",
    "OrderDetail",
    "OrderLinePublic",
    "OrderSummary",
    "Page",
    "ParcelLine",
    "ParcelPublic",
    "PaymentCreate",
    "PaymentPublic",
    "Problem",
    "ReadSchema",
    "ReorderPolicyUpdate",
    "ReturnCreate",
    "ReturnLine",
    "ReturnPublic",
    "ReturnReceiptCreate",
    "SkuDetail",
    "SkuSales",
    "StockAdjustmentCreate",
    "StockReceiptCreate",
    "TimelineEntry",
    "TrackingParcel",
    "TrackingPublic",
]
