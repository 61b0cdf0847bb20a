"""The overview's stuck orders: per rule, how many orders wait too long at a step, the most overdue listed first,
each list one count and one page in SQL over the whole orders view. An order's wait starts when the system received
it (its placement event's time, `received_at`), not at the channel's `placed_at`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, null, select
from sqlalchemy.sql import visitors

from projections.tables import order_timeline, orders

STUCK_SHOWN = 50


def received_at() -> ColumnElement[datetime]:
    """When the system received the order (its placement event's time), else the channel's `placed_at`."""
    return func.coalesce(order_timeline.c.time, orders.c.placed_at)


def with_receipt(query: Select[Any]) -> Select[Any]:
    return query.select_from(orders.outerjoin(order_timeline, order_timeline.c.event_id == orders.c.placed_event_id))


@dataclass(frozen=True)
class StuckRules:
    """How long an order may wait at each step before ops should look at it."""

    awaiting_payment: timedelta = timedelta(minutes=15)
    unshipped: timedelta = timedelta(hours=24)
    backordered_without_eta: timedelta = timedelta(hours=1)

    @classmethod
    def beside(cls, payment_timeout: timedelta) -> StuckRules:
        """Defaults for a pipeline that cancels unpaid orders after `payment_timeout`: flag an unpaid order half
        way there (while a reminder can still save it); an order still unpaid after it is stuck outright."""
        return cls(awaiting_payment=max(timedelta(minutes=1), payment_timeout / 2))

    def labels(self) -> tuple[str, str, str, str]:
        """What each list holds, in the order of `Stuck.lists`."""
        return (
            f"awaiting payment for over {_span(self.awaiting_payment)}",
            f"confirmed, no parcel left for over {_span(self.unshipped)}",
            "backordered, and the ETA of their stock has passed",
            f"backordered with no stock on its way (no ETA) for over {_span(self.backordered_without_eta)}",
        )


@dataclass(frozen=True)
class StuckOrder:
    order_id: str
    status: str
    channel: str | None
    external_ref: str | None
    customer_email: str | None
    total_amount: str | None
    currency: str | None
    placed_at: datetime | None
    since: datetime
    """When the wait began (awaiting payment, confirmed, backordered), or the ETA that passed."""
    due: datetime | None = None
    """The payment deadline, or the backorder's ETA."""


@dataclass(frozen=True)
class StuckList:
    rule: str
    count: int
    oldest: list[StuckOrder]


@dataclass(frozen=True)
class Stuck:
    awaiting_payment: StuckList
    unshipped: StuckList
    backordered_past_eta: StuckList
    backordered_without_eta: StuckList

    @property
    def lists(self) -> tuple[StuckList, ...]:
        return (self.awaiting_payment, self.unshipped, self.backordered_past_eta, self.backordered_without_eta)

    @property
    def count(self) -> int:
        return sum(found.count for found in self.lists)


def stuck_orders(conn: Connection, now: datetime, rules: StuckRules, shown: int = STUCK_SHOWN) -> Stuck:
    """Each rule's orders, counted in full, the `shown` most overdue of each listed first."""
    o = orders.c
    awaiting_since = func.coalesce(o.awaiting_payment_at, received_at())
    backordered_since = func.coalesce(o.backordered_at, received_at())
    return Stuck(
        awaiting_payment=_stuck(
            conn,
            rules.labels()[0],
            and_(o.status == "awaiting_payment", awaiting_since < now - rules.awaiting_payment),
            awaiting_since,
            o.payment_due_at,
            shown,
        ),
        unshipped=_stuck(
            conn,
            rules.labels()[1],
            and_(o.status == "shipment_requested", o.confirmed_at < now - rules.unshipped),
            o.confirmed_at,
            None,
            shown,
        ),
        backordered_past_eta=_stuck(
            conn,
            rules.labels()[2],
            and_(o.status == "backordered", o.eta.is_not(None), o.eta < now),
            o.eta,
            o.eta,
            shown,
        ),
        backordered_without_eta=_stuck(
            conn,
            rules.labels()[3],
            and_(o.status == "backordered", o.eta.is_(None), backordered_since < now - rules.backordered_without_eta),
            backordered_since,
            None,
            shown,
        ),
    )


def _stuck(
    conn: Connection,
    rule: str,
    where: ColumnElement[bool],
    since: ColumnElement[Any],
    due: ColumnElement[Any] | None,
    shown: int,
) -> StuckList:
    count = int(conn.execute(_reading(select(func.count()), where, since)).scalar_one())
    o = orders.c
    columns: list[ColumnElement[Any]] = [
        o.order_id,
        o.status,
        o.channel,
        o.external_ref,
        o.customer_email,
        o.total_amount,
        o.currency,
    ]
    columns += [o.placed_at, since.label("since"), (null() if due is None else due).label("due")]
    query = _reading(select(*columns), where, since).order_by(since, o.order_id).limit(shown)
    return StuckList(rule, count, [StuckOrder(**row) for row in conn.execute(query).mappings()])


def _reading(query: Select[Any], where: ColumnElement[bool], since: ColumnElement[Any]) -> Select[Any]:
    """`query` over the orders `where` holds, joined to their placement rows only when `where` or `since` reads
    them (a join per order costs a stuck list most of its time)."""
    if _reads_timeline(where) or _reads_timeline(since):
        query = with_receipt(query)
    return query.where(where)


def _reads_timeline(clause: ColumnElement[Any]) -> bool:
    return any(getattr(element, "table", None) is order_timeline for element in visitors.iterate(clause))


def _span(took: timedelta) -> str:
    minutes = int(took.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
