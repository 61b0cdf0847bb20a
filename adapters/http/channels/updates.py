"""What a shop's webhook says that the intake has not published yet. Pure: the update and what was published
before in, the facts to publish and the values to remember out.

A shop sends its order again and again (created, updated, paid, fulfilled, re-delivered, out of order). Per
aspect of the order (`ChannelFact.aspect`) the intake keeps the value it last published; a fact is new when
its value differs, unless the webhook is older than the one that value came from, or (a payment) it reports
less than was reported before: a payment's total only grows, an authorization only turns into a capture.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from adapters.http.channels.common import LINES, ChannelFact, ChannelUpdate
from adapters.sql.intake import PublishedFact
from events import EventData, LineChange, OrderChangeRequested, OrderPaid, natural_id


@dataclass(frozen=True)
class NewFacts:
    """What to publish, in the update's order, each with its value; and, once published, what to remember."""

    publish: tuple[tuple[ChannelFact, PublishedFact], ...]
    remember: tuple[PublishedFact, ...]


def new_facts(update: ChannelUpdate, published: Mapping[str, PublishedFact], *, placing: bool) -> NewFacts:
    """The facts of `update` not published before. `placing`: the order is placed from this same update, so
    its lines are in the placement (remembered, not published as a change); its payment is published all
    the same (a repeat of the placement's to the ledger), in case another delivery placed it unpaid first."""
    publish: list[tuple[ChannelFact, PublishedFact]] = []
    remember: list[PublishedFact] = []
    for fact in update.facts:
        before = published.get(fact.aspect)
        fact = _completed(fact, before)
        value = PublishedFact(fact.aspect, fingerprint(fact.data), update.changed_at, fact.data.model_dump_json())
        if placing and fact.aspect == LINES:
            remember.append(value)
        elif before is None or _is_news(fact, value, before):
            publish.append((fact, value))
            remember.append(value)
    return NewFacts(tuple(publish), tuple(remember))


def fact_event_id(channel: str, external_id: str, value: PublishedFact) -> uuid.UUID:
    """The same webhook delivered again gives the same id; another value, or the same value again after the
    shop changed it in between (lines back as they were), a new one."""
    changed = value.changed_at.isoformat() if value.changed_at else ""
    return natural_id("intake", channel, external_id, value.aspect, value.fingerprint, changed)


def fingerprint(data: EventData) -> str:
    return hashlib.sha256(f"{data.event_type}\x1f{data.model_dump_json()}".encode()).hexdigest()[:32]


def _is_news(fact: ChannelFact, value: PublishedFact, before: PublishedFact) -> bool:
    if value.fingerprint == before.fingerprint:
        return False
    if value.changed_at is not None and before.changed_at is not None and value.changed_at < before.changed_at:
        return False  # an older delivery than the one already published
    if isinstance(fact.data, OrderPaid):
        return _reports_more(fact.data, OrderPaid.model_validate_json(before.content))
    return True


def _reports_more(paid: OrderPaid, before: OrderPaid) -> bool:
    """A higher total of the same kind, or a capture of what was authorized. Less is no news: the shop's
    order total falls when it refunds a removed line, but what the payment took does not."""
    if paid.kind == before.kind:
        return paid.amount > before.amount
    return paid.kind == "captured"


def _completed(fact: ChannelFact, before: PublishedFact | None) -> ChannelFact:
    """A shop that drops a removed line from its order (WooCommerce) leaves the sku out: the lines published
    before that are missing now were removed (quantity 0)."""
    data = fact.data
    if fact.aspect != LINES or before is None or not isinstance(data, OrderChangeRequested):
        return fact
    present = {line.sku for line in data.lines}
    earlier = OrderChangeRequested.model_validate_json(before.content)
    removed = tuple(LineChange(sku=line.sku, qty=0) for line in earlier.lines if line.qty and line.sku not in present)
    if not removed:
        return fact
    return replace(fact, data=data.model_copy(update={"lines": (*data.lines, *removed)}))
