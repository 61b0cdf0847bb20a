"""The demo's counters, taken from the log itself: every event of the whole log (restored history included) and,
apart, those appended during this run, so that after a restart no row mixes the two."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rich.table import Table

from adapters.demo.catalog import CHANNELS
from events import Event, EventData, OrderPlaced

Position = tuple[str, int]
UNDECODABLE = "undecodable"
BY_CHANNEL = "placed by channel"

ROWS: tuple[tuple[str, str], ...] = (
    ("orders placed", "oms.order.placed"),
    (f"  {' / '.join(channel for channel, _ in CHANNELS)}", BY_CHANNEL),
    ("confirmed", "oms.order.confirmed"),
    ("backordered", "oms.order.backordered"),
    ("shipped", "oms.order.shipped"),
    ("delivered", "oms.order.delivered"),
    ("cancelled", "oms.order.cancelled"),
    ("refunds", "oms.refund.issued"),
    ("notifications sent", "oms.notification.sent"),
    ("low-stock alerts", "oms.stock.low"),
    ("dead letters", "oms.deadletter.recorded"),
)
PROGRESS_ROWS = ("orders placed", "confirmed", "shipped", "delivered", "cancelled", "dead letters")


@dataclass
class Tally:
    """Events by type in the whole log (`everything`) and in this run (`this_run`: at or past each partition's
    true end when the demo started, `run_starts`). An event id counts once, however often it is on the log."""

    run_starts: Mapping[Position, int]
    everything: Counter[str] = field(default_factory=Counter)
    this_run: Counter[str] = field(default_factory=Counter)
    read_up_to: dict[Position, int] = field(default_factory=dict)  # the next offset to read, per partition
    _seen: set[str] = field(default_factory=set, init=False, repr=False)

    def is_this_run(self, topic: str, partition: int, offset: int) -> bool:
        return offset >= self.run_starts.get((topic, partition), 0)

    def has_read(self, ends: Mapping[Position, int]) -> bool:
        """True once every partition has been read up to its end in `ends`."""
        return all(self.read_up_to.get(position, 0) >= end for position, end in ends.items())

    def add(self, topic: str, partition: int, offset: int, event: Event[EventData]) -> bool:
        """Count `event`; True when it is new (not an id seen before) and was appended in this run."""
        self.read_up_to[(topic, partition)] = offset + 1
        if str(event.id) in self._seen:
            return False
        self._seen.add(str(event.id))
        keys = [event.type]
        if isinstance(event.data, OrderPlaced):
            keys.append(f"placed:{event.data.channel}")
        return self._count(keys, self.is_this_run(topic, partition, offset))

    def add_undecodable(self, topic: str, partition: int, offset: int) -> None:
        self.read_up_to[(topic, partition)] = offset + 1
        self._count([UNDECODABLE], self.is_this_run(topic, partition, offset))

    def _count(self, keys: list[str], in_this_run: bool) -> bool:
        for key in keys:
            self.everything[key] += 1
            if in_this_run:
                self.this_run[key] += 1
        return in_this_run

    def cells(self, key: str) -> tuple[str, str]:
        """(this run, all) for a row of `ROWS`."""
        if key == BY_CHANNEL:
            return _by_channel(self.this_run), _by_channel(self.everything)
        return str(self.this_run[key]), str(self.everything[key])


def _by_channel(counts: Counter[str]) -> str:
    return " / ".join(str(counts[f"placed:{channel}"]) for channel, _ in CHANNELS)


def counters_table(tally: Tally, dashboard_url: str) -> Table:
    table = Table(
        title=f"oms demo — dashboard: {dashboard_url}  (Ctrl-C stops)",
        caption="this run: since this start; all: the whole log, history restored from the data folder included",
    )
    table.add_column("what")
    table.add_column("this run", justify="right")
    table.add_column("all", justify="right")
    for label, key in ROWS:
        table.add_row(label, *tally.cells(key))
    return table


def progress_line(tally: Tally, now: datetime) -> str:
    """One plain line for a log or a pipe: `this run/all` per row."""
    wanted = {label: key for label, key in ROWS if label in PROGRESS_ROWS}
    counts = ", ".join(f"{label} {'/'.join(tally.cells(key))}" for label, key in wanted.items())
    return f"{now:%H:%M:%S} this run/all: {counts}"
