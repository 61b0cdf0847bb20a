"""Money the shop gave back of its own accord, in the orders view (docs/event-flow.md, "Refunds made at the shop").

A refund made in the shop's admin comes as `oms.refund.reported`; what it adds beyond what this ledger gave back
is announced as an `oms.refund.issued` with cause `reported`. The customer does not owe it: it is conceded (per
payment), and lowers what the order costs. When the processor later decides a refund itself (a change, a
cancellation, a return, money paid too much), each payment's share is taken from what that payment conceded
first, and only the rest is announced: the shop gave that part back already. No event names the part taken, so
the view works it out as the processor does, per decision (the events sharing its causation id): the excess the
decision left before its own refunds, shared among the payments as `pipeline/rules/ledger.refund_shares` shares
it (the payment just recorded first, the rest pro rata of what each has left to refund).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from events import Event, EventData, OrderCancelled, OrderChanged, PaymentRecorded, RefundIssued, ReturnRecorded
from projections.money import ZERO, allocate, amount, quantum, rounded, text

Row = dict[str, Any]
SETTLES = (PaymentRecorded, OrderCancelled, OrderChanged, ReturnRecorded, RefundIssued)
"""The decisions after which the processor settles (refunds what the order no longer needs), and its refunds."""


def concede(payment: Row, refunded: Decimal) -> Row:
    """The payment after the shop's own refund of `refunded`, beyond what this ledger gave back."""
    return {**payment, "conceded": text(amount(payment.get("conceded")) + refunded)}


def conceded(payments: list[Row]) -> Decimal:
    return sum((amount(payment.get("conceded")) for payment in payments), ZERO)


def settle(row: Row, event: Event[EventData], balance_of: Callable[[Row], Decimal]) -> None:
    """After an event of a decision: what that decision took from each payment's conceded money.

    `balance_of(row)` is the order's balance (cost - captured + refunded) for the row as it is. The processor
    took its shares once, from the excess before its own refunds and with the conceded money of before the
    decision; the events of one decision come one by one, so each recomputes from that starting point."""
    data = event.data
    if not isinstance(data, SETTLES) or (isinstance(data, RefundIssued) and data.cause == "reported"):
        return
    cause = event.causationid or str(event.id)
    settling = row["settling"] if row["settling"] and row["settling"]["cause"] == cause else None
    if settling is None:
        if conceded(row["payments"]) == 0:
            return
        before = {p["payment_id"]: p.get("conceded") or "0" for p in row["payments"]}
        settling = {"cause": cause, "conceded": before, "issued": {}, "prefer": None}
    settling = _with(settling, data)
    row["payments"] = [{**p, "conceded": settling["conceded"].get(p["payment_id"], "0")} for p in row["payments"]]
    issued = {pid: amount(value) for pid, value in settling["issued"].items()}
    excess = rounded(-(balance_of(row) - sum(issued.values(), ZERO)), row["currency"])
    if excess >= quantum(row["currency"]):
        room = [(p["payment_id"], _refundable(p, issued)) for p in row["payments"]]
        taken = dict(refund_shares(room, excess, row["currency"], settling["prefer"]))
        row["payments"] = [_after_taking(p, taken.get(p["payment_id"], ZERO)) for p in row["payments"]]
    row["settling"] = settling


def _with(settling: Row, data: EventData) -> Row:
    """`settling` after one more event of its decision: a refund it issued, or the payment it prefers."""
    if isinstance(data, RefundIssued) and data.payment_id is not None:
        issued = dict(settling["issued"])
        issued[data.payment_id] = text(amount(issued.get(data.payment_id)) + data.amount)
        return {**settling, "issued": issued}
    if isinstance(data, PaymentRecorded):  # money paid too much goes back to the payment just counted first
        return {**settling, "prefer": data.payment_id}
    return settling


def _refundable(payment: Row, issued: dict[str, Decimal]) -> Decimal:
    """What the payment had left to refund before this decision's refunds."""
    refunded = amount(payment["refunded"]) - issued.get(payment["payment_id"], ZERO)
    return amount(payment["captured"]) - refunded


def _after_taking(payment: Row, share: Decimal) -> Row:
    had = amount(payment["conceded"])
    return {**payment, "conceded": text(had - min(share, had))}


def refund_shares(
    room: list[tuple[str, Decimal]], total: Decimal, currency: str, prefer: str | None
) -> list[tuple[str, Decimal]]:
    """Who gets `total` back: the `prefer`red payment first, the rest pro rata of what each has left to refund,
    in whole minor units; no payment more than it has left (as the processor shares a refund)."""
    left = dict(room)
    shares: dict[str, Decimal] = dict.fromkeys(left, ZERO)
    if prefer is not None and prefer in left:
        shares[prefer] = min(total, max(left[prefer], ZERO))
        left[prefer] -= shares[prefer]
    rest = min(total - sum(shares.values(), ZERO), sum((v for v in left.values() if v > 0), ZERO))
    ids = [pid for pid, value in left.items() if value > 0]
    for pid, part in zip(ids, allocate(rest, [left[pid] for pid in ids], currency), strict=True):
        shares[pid] += min(part, left[pid])
    return [(pid, share) for pid, share in shares.items() if share > 0]
