"""How far an order got in the orders view: its parcels, its returns, and the status derived from them.

Folded from the processor's decisions: `oms.shipment.requested` (a parcel and its lines), `oms.order.shipped`
(it left: carrier, tracking), `oms.order.delivered` (v2 names the parcel), `oms.order.handed_over`,
`oms.return.authorized` and `oms.return.recorded`. The status is derived after every event exactly as the
processor derives it (docs/event-flow.md, "Order status"), so a request the processor refused changes nothing.
Times inside the JSON columns are ISO 8601 strings in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from events import LineQty
from projections.order_ledger import is_cancelled, is_covered

Row = dict[str, Any]
STATUSES = (
    "placed",
    "awaiting_payment",
    "backordered",
    "shipment_requested",
    "partially_shipped",
    "shipped",
    "partially_delivered",
    "delivered",
    "completed",
    "return_requested",
    "partially_returned",
    "returned",
    "cancelled",
)
"""Every status the orders view shows, in the order an order usually passes through them."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


# --- parcels -------------------------------------------------------------------------------


def empty_parcel(shipment_id: str) -> Row:
    return {
        "shipment_id": shipment_id,
        "lines": [],
        "carrier": None,
        "tracking_number": None,
        "tracking_url": None,
        "requested_at": None,
        "dispatched_at": None,
        "delivered_at": None,
        "complete": False,
        "status": "requested",
    }


def update_parcel(row: Row, shipment_id: str, **fields: Any) -> None:
    """Set `fields` of the parcel `shipment_id` (added if new). Parcels stay in the order they were asked for,
    whichever of their events came first: the view reads two topics whose interleaving varies."""
    parcels = {parcel["shipment_id"]: parcel for parcel in row["parcels"]}
    parcel = {**parcels.get(shipment_id, empty_parcel(shipment_id)), **fields}
    parcels[shipment_id] = {**parcel, "status": parcel_status(parcel)}
    row["parcels"] = sorted(parcels.values(), key=_parcel_order)


def _parcel_order(parcel: Row) -> tuple[bool, datetime, str]:
    first = parcel["requested_at"] or parcel["dispatched_at"] or parcel["delivered_at"]
    return first is None, datetime.fromisoformat(first) if first else EPOCH, parcel["shipment_id"]


def as_lines(lines: Iterable[LineQty]) -> list[Row]:
    return [{"sku": line.sku, "qty": line.qty} for line in lines]


def parcel_status(parcel: Row) -> str:
    if parcel["delivered_at"]:
        return "delivered"
    return "dispatched" if parcel["tracking_number"] else "requested"


def dispatched_skus(row: Row) -> set[str]:
    """The skus of the parcels that left. A parcel whose lines the view has not read (its request is on another
    topic, or it was written before requests were) counts by what the processor said: `complete`, all of them."""
    left = [parcel for parcel in row["parcels"] if parcel["tracking_number"]]
    skus = {line["sku"] for parcel in left for line in parcel["lines"]}
    if any(parcel["complete"] and not parcel["lines"] for parcel in left):
        skus |= {line["sku"] for line in row["lines"] if line["qty"] > 0}
    return skus


def latest_dispatched(row: Row) -> Row | None:
    """The parcel that left last: the one the order's own carrier and tracking columns name."""
    left = [parcel for parcel in row["parcels"] if parcel["dispatched_at"]]
    return max(left, key=lambda p: (datetime.fromisoformat(p["dispatched_at"]), p["shipment_id"]), default=None)


def with_waiting_lines(row: Row) -> list[Row]:
    """The lines, each `backordered` while its last announcement said it waits for stock and no parcel was asked
    for it yet. Announcements come on oms.orders and parcel requests on oms.shipments: deciding from both at the
    end, not as each comes, keeps the row the same however the two topics interleave."""
    asked = {line["sku"] for parcel in row["parcels"] for line in parcel["lines"]}
    lines = []
    for line in row["lines"]:
        waiting = line["backorder_announced"] and line["qty"] > 0 and line["sku"] not in asked
        lines.append(line if line["backordered"] == waiting else {**line, "backordered": waiting})
    return lines


def with_lines_flagged(row: Row, skus: Iterable[str], **flags: Any) -> None:
    """Set `flags` on the lines of `skus`."""
    wanted = set(skus)
    row["lines"] = [{**line, **flags} if line["sku"] in wanted else line for line in row["lines"]]


# --- returns -------------------------------------------------------------------------------


def authorize_return(row: Row, rma: str, lines: Iterable[LineQty], reason: str, at: datetime) -> None:
    case = {"rma": rma, "reason": reason, "lines": _counted(lines), "received": {}, "authorized_at": iso(at)}
    row["returns"] = [*[c for c in row["returns"] if c["rma"] != rma], case]


def record_return(row: Row, rma: str, lines: Iterable[LineQty]) -> None:
    """Goods taken back against `rma`: its case receives them and their lines count them returned."""
    back = _counted(lines)
    cases = []
    for case in row["returns"]:
        if case["rma"] == rma:
            received = dict(case["received"])
            for sku, qty in back.items():
                received[sku] = received.get(sku, 0) + qty
            case = {**case, "received": received}
        cases.append(case)
    row["returns"] = cases
    row["lines"] = [{**line, "returned": line["returned"] + back.get(line["sku"], 0)} for line in row["lines"]]


def credit_inspected(row: Row, lines: Iterable[LineQty], cause: str) -> None:
    """Inspected units are credited to their lines once per inspection: the refunds of one inspection (one per
    payment) and its receipt all carry the same lines and the same cause."""
    if cause in row["credited_by"]:
        return
    inspected = _counted(lines)
    row["lines"] = [{**line, "credited": line["credited"] + inspected.get(line["sku"], 0)} for line in row["lines"]]
    row["credited_by"] = [*row["credited_by"], cause]


def _counted(lines: Iterable[LineQty]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for line in lines:
        counted[line.sku] = counted.get(line.sku, 0) + line.qty
    return counted


def is_open(case: Row) -> bool:
    return any(qty > case["received"].get(sku, 0) for sku, qty in case["lines"].items())


# --- the status ----------------------------------------------------------------------------


def order_status(row: Row) -> str | None:
    """Cancelled; else how far returns went; else how far its parcels went; else why it waits."""
    if is_cancelled(row):
        return "cancelled"
    if row["placed_at"] is None:
        return None
    return _return_status(row) or _shipping_status(row) or _waiting_status(row)


def _return_status(row: Row) -> str | None:
    active = [line for line in row["lines"] if line["qty"] > 0]
    left = dispatched_skus(row)
    out = sum(line["qty"] for line in active if line["handed_over"] or line["sku"] in left)
    back = sum(line["returned"] for line in active)
    if back and back >= out:
        return "returned"
    if back:
        return "partially_returned"
    return "return_requested" if any(is_open(case) for case in row["returns"]) else None


def _shipping_status(row: Row) -> str | None:
    active = [line for line in row["lines"] if line["qty"] > 0]
    if active and all(line["handed_over"] for line in active):
        return "completed"
    parcels = row["parcels"]
    if not parcels:
        # confirmed: the first parcel was asked for, its request (on oms.shipments) is on its way
        return "shipment_requested" if row["confirmed_at"] and row["fulfilment"] == "ship" else None
    left = dispatched_skus(row)
    everything_left = all(line["sku"] in left for line in active)
    delivered = [parcel for parcel in parcels if parcel["delivered_at"]]
    if delivered:
        return "delivered" if everything_left and len(delivered) == len(parcels) else "partially_delivered"
    if any(parcel["tracking_number"] for parcel in parcels):
        return "shipped" if everything_left else "partially_shipped"
    return "shipment_requested"


def _waiting_status(row: Row) -> str:
    if any(line["backordered"] for line in row["lines"] if line["qty"] > 0):
        return "backordered"
    return "placed" if is_covered(row) else "awaiting_payment"
