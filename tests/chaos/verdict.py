"""Judging a run: `oms check --json --grace 0` as an operator runs it, and what the run itself knows that the
audit cannot: which orders it placed (each must have a decision), which records were poison (each must be on the
dead-letter topic, from every processor reading its topic), and that confirmed orders left and messages went out.
"""

from __future__ import annotations

import base64
import gzip
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from adapters.audit.invariants import DECISION_TYPES
from adapters.audit.log import AuditTopics, read_log
from events import DeadLetterRecorded, Event, EventData, NotificationSent, topics
from projections.archive import Record, decoded
from tests.chaos.producer import Where
from tests.chaos.workload import PROCESSORS_READING

CHECK_EXIT_CODES = {0: "clean", 1: "violations"}


@dataclass(frozen=True)
class CheckResult:
    """What `oms check --json` said. `report` is its JSON (empty when the audit could not be made)."""

    exit_code: int
    report: Mapping[str, Any]
    stderr: str = ""

    @property
    def is_clean(self) -> bool:
        return self.exit_code == 0 and bool(self.report.get("clean"))

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.report.get("counts", {}))

    def describe(self) -> str:
        if self.exit_code not in CHECK_EXIT_CODES or not self.report:
            return f"audit failed (exit {self.exit_code}): {self.stderr.strip()[-500:]}"
        found = {name: count for name, count in self.counts.items() if count}
        said = "clean" if self.is_clean else f"violations {found}"
        return f"{said} ({self.report.get('records_read')} records, {self.report.get('duration_s')} s)"


def run_oms_check(bootstrap: str, prefix: str, data_dir: Path, timeout_s: float = 300.0) -> CheckResult:
    """`oms check --json --grace 0` against the run's topics and views (grace 0: the run is quiet, so every
    placed order must be decided now)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OMS_")}
    env = {**environment, "OMS_KAFKA_BOOTSTRAP": bootstrap, "OMS_TOPIC_PREFIX": prefix, "OMS_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "adapters.cli.main", "check", "--json", "--grace", "0"]
    command += ["--timeout", str(int(timeout_s))]
    child = subprocess.run(command, env=env, capture_output=True, timeout=timeout_s + 60, check=False)
    try:
        report = orjson.loads(child.stdout) if child.returncode in CHECK_EXIT_CODES else {}
    except orjson.JSONDecodeError:  # it died (exit 1 is also Python's for an uncaught exception): no report
        report = {}
    return CheckResult(child.returncode, report, child.stderr.decode(errors="replace"))


@dataclass
class Outcome:
    """What happened to the run's own orders and poison records, read from the log."""

    decisions: Counter[str] = field(default_factory=Counter)  # the last decision of each order, by type
    undecided: list[str] = field(default_factory=list)
    stuck_in_shipping: list[str] = field(default_factory=list)  # confirmed, never shipped nor handed over
    unsent: list[str] = field(default_factory=list)  # notification requests without a sent notification
    poison_missed: dict[str, list[str]] = field(default_factory=dict)  # tag -> processors that did not dead-letter
    # Dead letters of records that were no poison: only a refused stock adjustment may be one (the run adjusts some
    # scarce skus down); anything else was refused although it was a record the pipeline wrote or a valid input.
    unexplained_dead_letters: list[str] = field(default_factory=list)
    dead_letters: Counter[str] = field(default_factory=Counter)  # by processor/kind
    shipped: int = 0
    backordered: int = 0  # orders that waited for stock at some point

    @property
    def problems(self) -> list[str]:
        found = []
        if self.undecided:
            found.append(f"{len(self.undecided)} placed orders without a decision: {self.undecided[:10]}")
        if self.stuck_in_shipping:
            found.append(f"{len(self.stuck_in_shipping)} confirmed orders never left: {self.stuck_in_shipping[:10]}")
        if self.unsent:
            found.append(f"{len(self.unsent)} notifications requested and never sent: {self.unsent[:10]}")
        if self.unexplained_dead_letters:
            found.append(
                f"{len(self.unexplained_dead_letters)} dead letters of records that were no poison: "
                f"{self.unexplained_dead_letters[:10]}"
            )
        for tag, processors in sorted(self.poison_missed.items()):
            found.append(f"{tag} not dead-lettered by {', '.join(processors)}")
        return found

    @property
    def decided(self) -> int:
        return sum(self.decisions.values())


async def read_outcome(
    bootstrap: str, prefix: str, order_ids: Iterable[str], poison: Mapping[str, Where], timeout_s: float = 300.0
) -> Outcome:
    """Reads orders, notifications and dead letters to their true ends and says what became of the run's records."""
    names = [f"{prefix}{name}" for name in (topics.ORDERS, topics.NOTIFICATIONS, topics.DEADLETTER)]
    raw = await read_log(bootstrap, names, timeout_s=timeout_s)
    events = [event for event in (decoded(record.value) for record in raw.records) if event is not None]
    outcome = Outcome()
    _orders(outcome, events, set(order_ids))
    _notifications(outcome, events)
    _dead_letters(outcome, events, poison, len(prefix))
    return outcome


def _orders(outcome: Outcome, events: list[Event[EventData]], order_ids: set[str]) -> None:
    last: dict[str, str] = {}
    confirmed, backordered, left = set(), set(), set()
    for event in events:  # (one order's events share a partition: in their order)
        if event.type in DECISION_TYPES:
            last[event.subject] = event.type.removeprefix("oms.order.")
        if event.type == "oms.order.confirmed":
            confirmed.add(event.subject)
        elif event.type == "oms.order.backordered":
            backordered.add(event.subject)
        elif event.type in {"oms.order.shipped", "oms.order.handed_over"}:
            left.add(event.subject)
    outcome.decisions.update(last[order_id] for order_id in order_ids if order_id in last)
    outcome.undecided = sorted(order_ids - set(last))
    outcome.stuck_in_shipping = sorted((confirmed & order_ids) - left)
    outcome.shipped = len(left & order_ids)
    outcome.backordered = len(backordered & order_ids)


def _notifications(outcome: Outcome, events: list[Event[EventData]]) -> None:
    requested = {str(event.id) for event in events if event.type == "oms.notification.requested"}
    sent = {event.data.request_id for event in events if isinstance(event.data, NotificationSent)}
    outcome.unsent = sorted(requested - sent)


def _dead_letters(outcome: Outcome, events: list[Event[EventData]], poison: Mapping[str, Where], cut: int) -> None:
    by_source: dict[Where, set[str]] = {}
    poisoned = set(poison.values())
    for event in events:
        dead = event.data
        if isinstance(dead, DeadLetterRecorded):
            outcome.dead_letters[f"{dead.processor}/{dead.kind}"] += 1
            source = (dead.source_topic, dead.source_partition, dead.source_offset)
            by_source.setdefault(source, set()).add(dead.processor)
            if source not in poisoned and not is_refused_adjustment(dead):
                outcome.unexplained_dead_letters.append(
                    f"{dead.processor}/{dead.kind} of {source[0][cut:]}[{source[1]}]@{source[2]}: {dead.reason[:200]}"
                )
    for tag, where in poison.items():
        missing = PROCESSORS_READING[where[0][cut:]] - by_source.get(where, set())
        if missing:
            outcome.poison_missed[tag] = sorted(missing)


def shown_in_orders_view(views_db: Path, order_ids: Iterable[str]) -> dict[str, str]:
    """Of `order_ids`, those the orders view has a row for, with the row's status."""
    wanted = sorted(order_ids)
    if not wanted or not views_db.exists():
        return {}
    with closing(sqlite3.connect(f"file:{views_db}?mode=ro", uri=True)) as conn:
        marks = ", ".join("?" * len(wanted))
        rows = conn.execute(f"SELECT order_id, status FROM orders WHERE order_id IN ({marks})", wanted).fetchall()
    return dict(rows)


def is_refused_adjustment(dead: DeadLetterRecorded) -> bool:
    """The inventory processor refusing an `oms.stock.adjusted` that would take the shelf below what it holds."""
    if (dead.processor, dead.kind) != ("inventory", "rejected"):
        return False
    original = decoded(base64.b64decode(dead.original))
    return original is not None and original.type == "oms.stock.adjusted"


async def dump_log(bootstrap: str, prefix: str, path: Path, timeout_s: float = 300.0) -> int:
    """Every record the audit reads, as gzipped JSON lines (the embedded broker forgets its log when it stops)."""
    raw = await read_log(bootstrap, AuditTopics(prefix).every_topic, timeout_s=timeout_s)
    with gzip.open(path, "wb") as out:
        for record in raw.records:
            out.write(orjson.dumps(_dumped(record)) + b"\n")
    return len(raw.records)


def _dumped(record: Record) -> dict[str, Any]:
    try:
        value: Any = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        value = {"base64": base64.b64encode(record.value).decode()}
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key,
        "timestamp_ms": record.timestamp_ms,
        "value": value,
    }
