"""Ops actions from the pages where they belong: each form publishes the same event its API endpoint does."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from adapters.http.api.deps import Context
from adapters.http.api.intake import publish_action
from adapters.http.api.schemas import ORDER_ID_PATTERN, CancelCreate, StockReceiptCreate
from adapters.http.dashboard.auth import DashboardRoute, OperatorSession, check_csrf
from adapters.kafka.publisher import PublishFailed
from events import EventData, OrderCancelRequested, StockReceived

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)

SOURCE = "oms/dashboard/ops"
CsrfField = Annotated[str, Form()]
NonceField = Annotated[str, Form(max_length=64, description="One per rendered form: a resubmission repeats its id.")]


@router.post("/orders/{order_id}/cancel")
async def cancel_order(
    context: Context,
    session: OperatorSession,
    order_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ORDER_ID_PATTERN)],
    csrf: CsrfField = "",
    nonce: NonceField = "",
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(session, csrf)
    back = f"/dashboard/orders/{quote(order_id)}"
    try:
        body = CancelCreate(reason=reason)
    except ValidationError:
        return _back(back, "invalid")
    data = OrderCancelRequested(order_id=order_id, reason=body.reason)
    return _back(back, await _published(context, data, nonce, "cancel-requested", session.actor))


@router.post("/inventory/receipts")
async def receive_stock(
    context: Context,
    session: OperatorSession,
    csrf: CsrfField = "",
    nonce: NonceField = "",
    sku: Annotated[str, Form()] = "",
    qty: Annotated[str, Form()] = "",
    purchase_order: Annotated[str, Form()] = "",
    new_sku: Annotated[str, Form(description="`true` (ticked): the SKU is a new product, create its row.")] = "",
) -> RedirectResponse:
    """A receipt for a SKU the inventory does not know is refused unless `new_sku` is ticked: a typo would
    otherwise open a stock row nothing can take back (the log keeps every receipt)."""
    check_csrf(session, csrf)
    try:
        body = StockReceiptCreate.model_validate({"qty": qty, "purchase_order": purchase_order.strip() or None})
        data = StockReceived(sku=sku.strip(), qty=body.qty, purchase_order=body.purchase_order)
    except ValidationError:
        return _back("/dashboard/inventory", "invalid")
    if new_sku != "true" and context.read_model.get_sku(data.sku) is None:
        return _back(f"/dashboard/inventory?{urlencode({'sku': data.sku})}", "unknown-sku", "#receive-form")
    return _back("/dashboard/inventory", await _published(context, data, nonce, "stock-received", session.actor))


async def _published(context: Context, data: EventData, nonce: str, done: str, actor: str) -> str:
    """The notice to show: `done`, or why nothing was recorded."""
    try:
        await publish_action(context, data, source=SOURCE, dedup_key=nonce or None, actor=actor)
    except PublishFailed:
        return "unavailable"
    return done


def _back(path: str, notice: str, fragment: str = "") -> RedirectResponse:
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}notice={notice}{fragment}", status_code=303)
