"""The money of one order in the orders view: its lines' charges, its payments and what the customer owes.

Folded from the order processor's decisions only (docs/event-flow.md, "What the views apply"): a paid
placement is its first capture, `oms.payment.recorded` counts a payment report, `oms.refund.issued` gives money
back to the payment it names, `oms.payment.void_requested` frees an authorization. The `oms.order.paid`
request never moves money here: the processor may refuse it. What an order costs (its charge), its balance
and its payment status are computed the way the processor computes them (`pipeline/rules/order_status.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from events import OrderChanged, OrderPlaced, PaymentRecorded, PaymentVoidRequested, RefundIssued
from projections.money import ZERO, allocate, amount, in_minor_units, pro_rata, rounded, text
from projections.order_concessions import concede, conceded

Row = dict[str, Any]
NOT_FOR_GOODS = frozenset({"overpayment", "unmatched_payment"})
"""Refunds of money that paid for nothing: they do not make an order (partially) refunded."""
PAYMENT_AMOUNTS = ("amount", "authorized", "captured", "refunded")
UNNAMED_PAYMENT = "(unnamed)"
"""Where a v1 refund, which named no payment, is booked."""


# --- lines: what each costs ----------------------------------------------------------------


def placed_lines(data: OrderPlaced) -> list[Row]:
    """The lines with what each costs after its share of the discount (pro rata of their value, in whole minor
    units that add up to the discounted total)."""
    net = rounded(data.goods_total() - data.discount, data.currency)
    shares = allocate(net, [line.unit_price * line.qty for line in data.lines], data.currency)
    return [
        new_line(line.sku, line.qty, line.unit_price, share) for line, share in zip(data.lines, shares, strict=True)
    ]


def new_line(sku: str, qty: int, unit_price: Decimal, base_charge: Decimal) -> Row:
    return {
        "sku": sku,
        "qty": qty,
        "unit_price": text(unit_price),
        "base_qty": qty,
        "base_charge": text(base_charge),
        "backorder_announced": False,
        "backordered": False,
        "handed_over": False,
        "returned": 0,
        "credited": 0,
    }


def changed_lines(lines: list[Row], data: OrderChanged, currency: str) -> list[Row]:
    """The lines after `oms.order.changed`, which lists the lines now (cancelled ones left out). A resized line
    keeps what its placed quantity cost per unit and asks for stock again; a new line costs its list price."""
    now = {line.sku: line for line in data.lines}
    result = []
    for line in lines:
        change = now.pop(line["sku"], None)
        qty = change.qty if change is not None else 0
        resized = qty != line["qty"]
        announced = line["backorder_announced"] and not resized  # a new quantity asks for stock again
        result.append({**line, "qty": qty, "backorder_announced": announced and qty > 0})
    for added in now.values():
        charge = rounded(added.unit_price * added.qty, currency)
        result.append(new_line(added.sku, added.qty, added.unit_price, charge))
    return result


def line_charge(line: Row, currency: str) -> Decimal:
    return pro_rata(amount(line["base_charge"]), line["qty"], line["base_qty"], currency)


def line_credit(line: Row, currency: str) -> Decimal:
    """What the customer paid for the units that came back and were inspected (cumulative per line)."""
    return pro_rata(line_charge(line, currency), line["credited"], line["qty"], currency)


def is_cancelled(row: Row) -> bool:
    return row["cancelled_at"] is not None


def charge(row: Row) -> Decimal:
    """What the order costs now: its lines less what came back and was inspected, plus shipping while any
    line is on the order; nothing once cancelled."""
    if is_cancelled(row) or row["currency"] is None:
        return ZERO
    currency = row["currency"]
    lines = sum((line_charge(line, currency) - line_credit(line, currency) for line in row["lines"]), ZERO)
    active = any(line["qty"] > 0 for line in row["lines"])
    return lines + (amount(row["shipping_charge"]) if active else ZERO)


# --- payments ------------------------------------------------------------------------------


def empty_payment(payment_id: str, currency: str | None) -> Row:
    return {
        "payment_id": payment_id,
        "kind": "authorized",
        "amount": "0",
        "currency": currency,
        "authorized": "0",
        "captured": "0",
        "refunded": "0",
        "voided": False,
        "conceded": "0",
    }


def payment_of(row: Row, payment_id: str) -> Row:
    found = next((p for p in row["payments"] if p["payment_id"] == payment_id), None)
    return dict(found) if found else empty_payment(payment_id, row["currency"])


def with_payment(row: Row, payment: Row) -> None:
    """`payment` in place of the one with its id, or added last (its amounts in the currency's minor units)."""
    currency = payment["currency"] or row["currency"]
    payment = payment | {field: in_minor_units(amount(payment[field]), currency) for field in PAYMENT_AMOUNTS}
    payments = row["payments"]
    if any(p["payment_id"] == payment["payment_id"] for p in payments):
        row["payments"] = [payment if p["payment_id"] == payment["payment_id"] else p for p in payments]
    else:
        row["payments"] = [*payments, payment]


def placement_payment(data: OrderPlaced, order_charge: Decimal) -> Row | None:
    """The payment a channel took with the order: all it costs, captured (authorized only, at shipment)."""
    if data.payment_status != "paid":
        return None
    payment = empty_payment(data.payment_id or f"{data.order_id}:placement", data.currency)
    kind = "authorized" if data.capture == "at_shipment" else "captured"
    captured = order_charge if kind == "captured" else ZERO
    payment.update(kind=kind, amount=text(order_charge), authorized=text(order_charge), captured=text(captured))
    return payment


def record_payment(row: Row, data: PaymentRecorded) -> None:
    """A report counted by the processor: `amount` is that payment's total so far, never an addition."""
    payment = payment_of(row, data.payment_id)
    if data.kind == "captured":
        authorized = max(amount(payment["authorized"]), data.amount)
        payment.update(captured=text(data.amount), authorized=text(authorized))
    else:
        payment.update(authorized=text(data.amount))
    payment.update(kind=data.kind, amount=text(data.amount))
    with_payment(row, {**payment, "currency": data.currency})


def record_refund(row: Row, data: RefundIssued) -> None:
    payment = payment_of(row, data.payment_id or UNNAMED_PAYMENT)
    refunded = amount(payment["refunded"]) + data.amount
    payment.update(refunded=text(refunded), currency=data.currency)
    if data.cause == "unmatched_payment":  # captured while it waited for an order that never came
        captured = max(amount(payment["captured"]), refunded)
        payment.update(kind="captured", amount=text(captured), captured=text(captured))
    if data.cause == "reported":  # the shop gave it back itself: the customer does not owe it
        payment = concede(payment, data.amount)
    with_payment(row, payment)
    if data.cause not in NOT_FOR_GOODS:
        row["refunded_for_goods"] = text(amount(row["refunded_for_goods"]) + data.amount)


def record_void(row: Row, data: PaymentVoidRequested) -> None:
    payment = payment_of(row, data.payment_id)
    if amount(payment["authorized"]) == 0:  # an authorization that waited for an order that never came
        payment.update(authorized=text(data.amount), amount=text(data.amount))
    with_payment(row, {**payment, "voided": True, "currency": data.currency})


def uncaptured(payment: Row) -> Decimal:
    """Authorized and neither captured nor voided."""
    if payment["voided"]:
        return ZERO
    return max(amount(payment["authorized"]) - amount(payment["captured"]), ZERO)


def total(payments: Iterable[Row], field: str) -> Decimal:
    return sum((amount(payment[field]) for payment in payments), ZERO)


# --- what follows from them ----------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """An order's money at one point: what it costs, and its payments' totals."""

    charge: Decimal
    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    covering: Decimal
    """Captured plus what is still authorized, less refunds: what the customer has given or pledged."""
    conceded: Decimal = ZERO
    """What the shop gave back of its own accord that no decision here explains (see `order_concessions`)."""

    @property
    def cost(self) -> Decimal:
        """What the order costs the customer: its charge less what the shop conceded, never below nothing."""
        return self.charge - min(self.conceded, self.charge)

    @property
    def balance(self) -> Decimal:
        """cost - captured + refunded: what the customer still owes (negative: what we owe them)."""
        return self.cost - self.captured + self.refunded


def ledger_of(row: Row) -> Ledger:
    payments = row["payments"]
    refunded = total(payments, "refunded")
    return Ledger(
        charge=charge(row),
        authorized=total(payments, "authorized"),
        captured=total(payments, "captured"),
        refunded=refunded,
        covering=sum((amount(p["captured"]) + uncaptured(p) for p in payments), ZERO) - refunded,
        conceded=conceded(payments),
    )


def amount_due(row: Row, money: Ledger) -> Decimal:
    """What is neither paid nor (captured at shipment) authorized, rounded; never negative."""
    if row["currency"] is None:
        return ZERO
    uncovered = money.cost - money.covering if row["capture"] == "at_shipment" else money.balance
    return max(rounded(uncovered, row["currency"]), ZERO)


def payment_status(row: Row, money: Ledger, due: Decimal) -> str:
    """refunded / partially_refunded once anything went back for goods or a cancellation; else paid, authorized,
    partially_paid or unpaid (docs/event-flow.md, "Payment status")."""
    net = money.captured - money.refunded
    if amount(row["refunded_for_goods"]) > 0:
        return "refunded" if net <= 0 else "partially_refunded"
    if due == 0 and money.charge > 0:
        return "paid" if rounded(money.charge - net, row["currency"]) <= 0 else "authorized"
    return "partially_paid" if net > 0 or money.covering > 0 else "unpaid"


def money_columns(row: Row) -> Row:
    """The ledger as the orders view's columns (decimal strings), for a placed order."""
    money, currency = ledger_of(row), row["currency"]
    due = amount_due(row, money)
    return {
        "total_amount": in_minor_units(money.cost, currency),
        "authorized_amount": in_minor_units(money.authorized, currency),
        "captured_amount": in_minor_units(money.captured, currency),
        "refunded_amount": in_minor_units(money.refunded, currency),
        "balance_due": in_minor_units(due, currency),
        "payment_status": payment_status(row, money, due),
    }


def is_covered(row: Row) -> bool:
    """Paid for (or authorized for, captured at shipment): its lines may ship. Reads the money columns."""
    return not is_cancelled(row) and row["placed_at"] is not None and amount(row["balance_due"]) == 0
