"""An order's story told to the real order rules, and the log a projector would read of it.

story = Story().then(placed("o-1", {"MUG": 1}), reserved("o-1", "MUG", 1))
row = story.row()                       # the orders row folded from that log
views = story.project()                 # the whole orders projection (timeline, customers) in SQLite
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, create_engine

from events import Event, EventData, encode
from pipeline.rules.common import Rejected
from pipeline.rules.orders import OrderState, decide_order
from projections.archive import Record
from projections.orders import FOLDED_TOPICS, evolve_order
from projections.projector import ORDERS, apply_records, prepare_views
from projections.rows import Row, table_rows
from projections.tables import customers, order_timeline, orders
from projections.timeline import TIMELINE_TOPICS
from tests.unit.rules_support import at

TIMEOUT = timedelta(minutes=30)


class Story:
    """Inputs go through `decide_order` one at a time (each order keeps its own state); `log` holds every input
    and every output in the order they would sit on their topics, dead-lettered inputs included."""

    def __init__(self, *, split_shipments: bool = False) -> None:
        self.decide = partial(decide_order, payment_timeout=TIMEOUT, split_shipments=split_shipments)
        self.states: dict[str, OrderState | None] = {}
        self.log: list[Event[EventData]] = []
        self.outputs: list[EventData] = []

    def then(self, *inputs: Event[Any]) -> Story:
        for happening in inputs:
            self.log.append(happening)
            order_id = getattr(happening.data, "order_id", happening.subject)  # stock answers are keyed by sku
            try:
                decision = self.decide(self.states.get(order_id), happening, at(1))
            except Rejected:
                continue
            self.states[order_id] = decision.state
            self.log.extend(decision.emitted)
            self.outputs = [emitted.data for emitted in decision.emitted]
        return self

    def state(self, order_id: str) -> OrderState:
        found = self.states.get(order_id)
        assert found is not None, f"no state for {order_id}"
        return found

    def row(self, order_id: str) -> Row:
        row: Row | None = None
        for happening in self.log:
            if happening.subject == order_id and happening.data.topic in FOLDED_TOPICS:
                row = evolve_order(row, happening)
        assert row is not None, f"nothing folded for {order_id}"
        return row

    def records(self) -> list[Record]:
        offsets: dict[str, int] = {}
        records = []
        for happening in self.log:
            topic = happening.data.topic
            if topic in TIMELINE_TOPICS:
                records.append(Record(topic, 0, offsets.get(topic, 0), happening.subject, encode(happening)))
                offsets[topic] = offsets.get(topic, 0) + 1
        return records

    def project(self, engine: Engine | None = None, batch: int = 7) -> Views:
        """The log through the orders projection, `batch` records a transaction (default: in-memory SQLite)."""
        engine = engine or create_engine("sqlite://")
        with engine.begin() as conn:
            prepare_views(conn, ORDERS)
        records = self.records()
        for start in range(0, len(records), batch):
            with engine.begin() as conn:
                apply_records(conn, ORDERS, records[start : start + batch])
        return Views(engine)


class Views:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self, table: Any) -> list[Row]:
        with self.engine.connect() as conn:
            return table_rows(conn, table)

    def order(self, order_id: str) -> Row:
        return next(row for row in self.rows(orders) if row["order_id"] == order_id)

    def timeline(self, order_id: str) -> list[Row]:
        rows = [row for row in self.rows(order_timeline) if row["order_id"] == order_id]
        return sorted(rows, key=lambda row: (row["topic"], row["offset"]))

    def customers(self) -> list[Row]:
        return self.rows(customers)
