"""Stock as the API reads it: one sku's figures for lists, with its purchase orders and waiting lines for one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from adapters.http.api.schemas.reads import ReadSchema


class InventoryItem(ReadSchema):
    sku: str
    on_hand: int
    reserved: int
    available: int
    incoming_qty: int = 0
    next_eta: datetime | None = None
    backordered_qty: int = 0
    reorder_point: int | None = None
    reorder_qty: int | None = None
    is_low: bool = False
    suggested_reorder_qty: int = 0
    updated_at: datetime | None = None


class SkuDetail(InventoryItem):
    incoming: list[dict[str, Any]] = Field(default=[], description="Scheduled purchase orders: qty, eta, po.")
    backorders: list[dict[str, Any]] = Field(default=[], description="Waiting order lines, oldest first.")

    @field_validator("backorders", mode="before")
    @classmethod
    def waiting_lines(cls, value: object) -> object:
        """The view keeps the queue as {order id: units} (`inventory_queries.SkuRow`): a list of lines, in its order."""
        if isinstance(value, Mapping):
            return [{"order_id": order_id, "qty": qty} for order_id, qty in value.items()]
        return value
