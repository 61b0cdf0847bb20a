"""An order's payments: what each authorized, captured and got back, and how refunds are shared."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from events.orders import PaymentKind
from pipeline.rules.common import Refused, RuleState
from pipeline.rules.money import ZERO, allocate, text


class Payment(RuleState):
    """One payment of the order. Amounts are what the provider reported in all (a report repeats, never adds)."""

    payment_id: str
    currency: str = ""
    """The payment's currency when it came before its order; "" once it is counted in the order's."""
    authorized: Decimal = ZERO
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    capture_requested: Decimal = ZERO
    voided: bool = False
    reported: Decimal = ZERO
    """What the shop or provider reported it gave back itself, in all (`oms.refund.reported`)."""
    reported_refunds: tuple[str, ...] = ()
    """The provider's ids of those refunds: a refund reported again is not counted again."""
    conceded: Decimal = ZERO
    """Of `refunded`, what the shop gave back that no decision here explains yet (a goodwill refund, or one it
    made before this processor saw the change or cancellation behind it): the customer does not owe it, and a
    refund decided here later is taken from it first instead of being paid twice."""

    @property
    def refundable(self) -> Decimal:
        return self.captured - self.refunded

    @property
    def uncaptured(self) -> Decimal:
        """Authorized and neither captured nor voided: money the customer cannot use yet."""
        return ZERO if self.voided else max(self.authorized - self.captured, ZERO)

    @property
    def is_fully_refunded(self) -> bool:
        return self.captured > 0 and self.refunded >= self.captured


class Refund(RuleState):
    """A refund the order processor decided."""

    payment_id: str
    amount: Decimal
    cause: str
    rma: str | None = None


Payments = tuple[Payment, ...]


def captured(payments: Iterable[Payment]) -> Decimal:
    return sum((payment.captured for payment in payments), ZERO)


def refunded(payments: Iterable[Payment]) -> Decimal:
    return sum((payment.refunded for payment in payments), ZERO)


def conceded(payments: Iterable[Payment]) -> Decimal:
    return sum((payment.conceded for payment in payments), ZERO)


def covering(payments: Iterable[Payment]) -> Decimal:
    """What the customer has given or pledged: captures plus open authorizations, less refunds."""
    return sum((payment.captured + payment.uncaptured - payment.refunded for payment in payments), ZERO)


def find(payments: Payments, payment_id: str) -> Payment | None:
    return next((payment for payment in payments if payment.payment_id == payment_id), None)


def with_payment(payments: Payments, payment: Payment) -> Payments:
    """`payments` with `payment` replacing the one of its id, or added last."""
    if find(payments, payment.payment_id) is None:
        return (*payments, payment)
    return tuple(payment if known.payment_id == payment.payment_id else known for known in payments)


def reported(payments: Payments, payment_id: str, kind: PaymentKind, amount: Decimal) -> Payment | None:
    """The payment after a provider's report, or None if the report says nothing new (a repeat).

    Refused: a report that lowers what was reported before, or any report of a payment refunded in full."""
    known = find(payments, payment_id) or Payment(payment_id=payment_id)
    if known.is_fully_refunded:
        raise Refused(
            "payment_already_refunded",
            f"payment {payment_id} was refunded in full ({text(known.refunded)}); this report changes nothing",
        )
    before = known.captured if kind == "captured" else max(known.authorized, known.captured)
    if amount < before:
        raise Refused(
            "payment_conflict",
            f"payment {payment_id} has {kind} {text(before)} already; a report of {text(amount)} cannot lower it",
        )
    if amount == before and find(payments, payment_id) is not None:
        return None
    if kind == "captured":
        return known.model_copy(update={"captured": amount, "authorized": max(known.authorized, amount)})
    return known.model_copy(update={"authorized": amount})


def refund_shares(payments: Payments, amount: Decimal, currency: str, prefer: str | None) -> list[tuple[str, Decimal]]:
    """Who gets `amount` back: the `prefer`red payment first (the one that paid too much or too late), the
    rest shared pro rata of what each has left to refund. No payment gets back more than it has left."""
    left = {payment.payment_id: payment.refundable for payment in payments}
    shares: dict[str, Decimal] = dict.fromkeys(left, ZERO)
    if prefer is not None and prefer in left:
        shares[prefer] = min(amount, max(left[prefer], ZERO))
        left[prefer] -= shares[prefer]
    rest = min(amount - sum(shares.values(), ZERO), sum((v for v in left.values() if v > 0), ZERO))
    ids = [pid for pid, room in left.items() if room > 0]
    for pid, part in zip(ids, allocate(rest, [left[pid] for pid in ids], currency), strict=True):
        shares[pid] += min(part, left[pid])
    return [(pid, share) for pid, share in shares.items() if share > 0]
