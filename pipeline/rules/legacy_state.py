"""Order states stored before the money ledger (reserved / backordered / returned kept beside the order)
read as today's state, so a processor restarted on the new code picks up its orders where they were."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

LEGACY_KEYS = ("reserved", "backordered", "returned", "return_reason")


def upgraded(data: Any) -> Any:
    """A stored state dict in today's shape; anything else as it came (pydantic reports what is wrong)."""
    if not isinstance(data, dict) or "lines" in data or not isinstance(data.get("order"), dict):
        return data
    order = {"fulfilment": "ship", **data["order"]}  # before till sales, every order went by carrier
    reserved = set(data.get("reserved") or ())
    backordered: dict[str, Any] = data.get("backordered") or {}
    returned: dict[str, int] = data.get("returned") or {}
    shipments: list[dict[str, Any]] = data.get("shipments") or []
    lines = [_line(line, order, reserved, backordered, returned, shipments, data) for line in order["lines"]]
    upgraded_state = {key: value for key, value in data.items() if key not in LEGACY_KEYS}
    upgraded_state.update(order=order, lines=lines, **_ledger(data, order, returned))
    return upgraded_state


def _line(
    line: dict[str, Any],
    order: dict[str, Any],
    reserved: set[str],
    backordered: dict[str, Any],
    returned: dict[str, int],
    shipments: list[dict[str, Any]],
    state: dict[str, Any],
) -> dict[str, Any]:
    sku = line["sku"]
    shipment = next((s for s in shipments if sku in s.get("skus", ())), None)
    stock = "reserved" if sku in reserved else "backordered" if sku in backordered else "requested"
    if shipment is not None and shipment.get("tracking_number"):
        stock = "committed"
    elif state.get("status") == "cancelled":
        stock = "released"
    back = returned.get(sku, 0)
    return {
        "sku": sku,
        "qty": line["qty"],
        "unit_price": line["unit_price"],
        "base_qty": line["qty"],
        "base_charge": str(Decimal(str(line["unit_price"])) * line["qty"]),
        "placed_at": order["placed_at"],
        "stock": stock,
        "eta": backordered.get(sku),
        "shipment_id": shipment["shipment_id"] if shipment else None,
        "returned": back,
        "credited": back,
    }


def _ledger(state: dict[str, Any], order: dict[str, Any], returned: dict[str, int]) -> dict[str, Any]:
    """One payment of the order's total if it was paid; returns were refunded at list price then."""
    if not state.get("paid"):
        return {}
    prices = {line["sku"]: Decimal(str(line["unit_price"])) for line in order["lines"]}
    total = sum((prices[line["sku"]] * line["qty"] for line in order["lines"]), Decimal(0))
    refunded = sum((prices[sku] * qty for sku, qty in returned.items() if sku in prices), Decimal(0))
    source = "placement" if order.get("payment_status") == "paid" else "legacy"
    payment_id = order.get("payment_id") or f"{order['order_id']}:{source}"
    payment = {"payment_id": payment_id, "captured": str(total), "authorized": str(total), "refunded": str(refunded)}
    refunds = [{"payment_id": payment_id, "amount": str(refunded), "cause": "return"}] if refunded else []
    return {"payments": [payment], "refunds": refunds}
