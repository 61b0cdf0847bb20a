"""Inventory: stock reads and ops stock actions, each publishing its event on `oms.inventory`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path

from adapters.http.api.deps import Context, OperatorOf, Paging, Viewer
from adapters.http.api.errors import NotFound, Unprocessable, problem_responses
from adapters.http.api.intake import publish_action
from adapters.http.api.schemas import (
    SKU_PATTERN,
    ActionAccepted,
    IncomingStockCreate,
    InventoryItem,
    Page,
    ReorderPolicyUpdate,
    SkuDetail,
    StockAdjustmentCreate,
    StockReceiptCreate,
)
from adapters.http.api.views import accepted, as_schema, page_of
from events import StockAdjusted, StockIncomingScheduled, StockReceived, StockReorderPolicySet

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"], dependencies=[Viewer])

SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=SKU_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=128, description="Send the same key when retrying: the retry repeats the same event id."),
]
ACTION_RESPONSES = problem_responses(401, 403, 422, 503)
SOURCE = "oms/api/ops"


@router.get("", response_model=Page[InventoryItem], responses=problem_responses(401, 422))
def list_inventory(context: Context, paging: Paging, low_only: bool = False) -> Page[InventoryItem]:
    items, total = context.read_model.list_inventory(paging, low_only)
    return page_of(InventoryItem, items, total, paging)


@router.get("/{sku}", response_model=SkuDetail, responses=problem_responses(401, 404))
def get_sku(sku: SkuPath, context: Context) -> SkuDetail:
    row = context.read_model.get_sku(sku)
    if row is None:
        raise NotFound(f"No sku {sku}.")
    return as_schema(SkuDetail, row)


@router.post("/{sku}/receipts", status_code=202, response_model=ActionAccepted, responses=ACTION_RESPONSES)
async def receive_stock(
    sku: SkuPath,
    body: StockReceiptCreate,
    context: Context,
    principal: OperatorOf,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    """Units arrived on the shelf. With `known_sku_only`, only on a SKU the inventory view has."""
    if body.known_sku_only and context.read_model.get_sku(sku) is None:
        raise Unprocessable(f"No stock row has the SKU {sku}; send known_sku_only false to create it.")
    data = StockReceived(sku=sku, qty=body.qty, warehouse=body.warehouse, purchase_order=body.purchase_order)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )


@router.post("/{sku}/incoming", status_code=202, response_model=ActionAccepted, responses=ACTION_RESPONSES)
async def schedule_incoming(
    sku: SkuPath,
    body: IncomingStockCreate,
    context: Context,
    principal: OperatorOf,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    """A purchase order is on its way; its ETA is promised to backordered customers."""
    data = StockIncomingScheduled(sku=sku, qty=body.qty, eta=body.eta, purchase_order=body.purchase_order)
    return accepted(
        await publish_action(
            context, data, source=SOURCE, dedup_key=idempotency_key or body.purchase_order, actor=principal.actor
        )
    )


@router.post("/{sku}/adjustments", status_code=202, response_model=ActionAccepted, responses=ACTION_RESPONSES)
async def adjust_stock(
    sku: SkuPath,
    body: StockAdjustmentCreate,
    context: Context,
    principal: OperatorOf,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    """A stock count correction (+/- on hand)."""
    data = StockAdjusted(sku=sku, delta=body.delta, reason=body.reason)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )


@router.put("/{sku}/reorder-policy", status_code=202, response_model=ActionAccepted, responses=ACTION_RESPONSES)
async def set_reorder_policy(
    sku: SkuPath,
    body: ReorderPolicyUpdate,
    context: Context,
    principal: OperatorOf,
    idempotency_key: IdempotencyKey = None,
) -> ActionAccepted:
    data = StockReorderPolicySet(sku=sku, reorder_point=body.reorder_point, reorder_qty=body.reorder_qty)
    return accepted(
        await publish_action(context, data, source=SOURCE, dedup_key=idempotency_key, actor=principal.actor)
    )
