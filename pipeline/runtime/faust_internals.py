"""faust's aiokafka transport with a short fetch wait and a cheaper hand-over of each message.

faust builds its worker consumer with `fetch_max_wait_ms=1500`, a constant. A broker that answers a fetch
as soon as data arrives makes that harmless; the embedded `tansu` broker does not: it holds an empty fetch
for the full wait, so every hop of the pipeline waited ~400 ms at the median (measured with a 4-partition
topic and one message every 50 ms: 396 ms p50 at 1500, 32 ms at 100, 4 ms at 10). The wait is a trade:
idle, a worker and the broker used 4 % and 0 % of a core at 1500 ms, 10 % and 20 % at 10 ms. `App` takes
it from `PipelineConfig.fetch_max_wait_ms` (`OMS_FETCH_MAX_WAIT_MS`).

faust hands each fetched message to its streams inside `Service.wait_first(callback, suspend_flow.wait())`,
so that a rebalance can abandon a hand-over that blocks. That builds four tasks and an `asyncio.wait` per
message, about a tenth of a busy worker's main thread (py-spy, `oms bench`), although the hand-over almost
never blocks: faust puts into an agent's stream buffer without waiting. `_Consumer` runs the hand-over
directly until it would block, and only a hand-over that does block goes through `wait_first` as before.

Messages that every stage reading their topic ignores (a stage's own outputs, which share its input topic)
are acknowledged at the hand-over, without going through faust's stream: the pipeline's producer marks each
record with its event type in the `oms-type` header (`pipeline/runtime/produce.py`), and `App.passed_over` lists the
types to pass over per topic. About 40 % of what a worker reads; a record without the header goes the usual way.
Acknowledged like this, an offset is committed as if its stream had acked it; faust commits the highest
offset below which everything is acked, so a passed-over record never commits past one still in a stage.

`_Consumer` also decides what is committed. faust (0.15.3) commits the first run of consecutive acknowledged
offsets, and with nothing committed yet on a partition, or one past the committed offset, it does not check what
lies ahead of that run. Acknowledgements come out of order (a passed-over record at once; after a rebalance,
faust's streams acknowledge the records they buffered in the generation before, unprocessed), so it committed
offsets whose records were never applied, and a worker killed then lost them. Here the committed offset is never
past a record handed to a stream in this consumer generation and not yet acknowledged; records of an earlier
generation are not handed over at all (they are read again from the committed offset).

Without faust tables faust joins the group with the round-robin assignor, which may give partition N of two
topics one stage reads to two workers; the range assignor gives each worker the same partition numbers of every
topic, so one key's state has one writer.

`App` also leaves out faust's Monitor sensor (statistics for faust's web view, which we do not run).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, cast

import faust
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka

from pipeline.runtime.produce import TYPE_HEADER

FETCH_MAX_WAIT_MS = 25


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by consumer.start() when it builds its fetcher
        consumer._fetch_max_wait_ms = getattr(self.app, "fetch_max_wait_ms", FETCH_MAX_WAIT_MS)
        # read by consumer.start() when it builds its group coordinator. Without faust tables faust picks the
        # round-robin assignor, which may give partition 0 of the orders topic to one worker and partition 0 of
        # the order-replies topic to another: two workers would then write one order's state. The range
        # assignor gives each worker the same partition numbers of every topic (they all have as many).
        consumer._partition_assignment_strategy = (RangePartitionAssignor,)
        return consumer


def _step(coroutine: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Run a coroutine until it finishes or waits: (True, its result) or (False, what it waits on)."""
    try:
        waiting_on = coroutine.send(None)
    except StopIteration as done:
        return True, done.value
    return False, waiting_on


class _Resumed:
    """Awaitable that carries on a coroutine `_step` left waiting on `waiting_on`, as a task would."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        self.coroutine = coroutine
        self.waiting_on = waiting_on

    def __await__(self) -> Generator[Any, None, Any]:
        coroutine, waiting_on = self.coroutine, self.waiting_on
        while True:
            try:
                yield waiting_on
            except BaseException as thrown:  # cancellation from the task: the coroutine gets it
                try:
                    waiting_on = coroutine.throw(thrown)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = coroutine.send(None)
                except StopIteration as done:
                    return done.value


class _HandedOver:
    """Per partition and consumer generation: the offsets handed to streams and not yet acknowledged (in offset
    order), and the last offset handed over or passed over."""

    __slots__ = ("generation", "last", "pending")

    def __init__(self, generation: int | None) -> None:
        self.generation = generation
        self.pending: dict[int, None] = {}
        self.last: int | None = None

    def handed(self, offset: int, *, pending: bool) -> None:
        if self.last is not None and offset <= self.last:  # read again after a seek: start over from here
            self.pending.clear()
        self.last = offset
        if pending:
            self.pending[offset] = None

    def safe_offset(self) -> int | None:
        """The offset to commit: below the oldest record still in a stream, or past everything handed over."""
        if self.pending:
            return next(iter(self.pending))
        return None if self.last is None else self.last + 1


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _handed_over(self, tp: Any) -> _HandedOver:
        """The tracker of `tp` for the current generation (a rebalance starts every partition anew)."""
        trackers: dict[Any, _HandedOver] = self.__dict__.setdefault("_oms_handed_over", {})
        generation = self.app.consumer_generation_id
        tracker = trackers.get(tp)
        if tracker is None or tracker.generation != generation:
            tracker = trackers[tp] = _HandedOver(generation)
        return tracker

    def ack(self, message: Any) -> bool:
        counted = bool(super().ack(message))
        if message.acked:
            tracker = self.__dict__.get("_oms_handed_over", {}).get(message.tp)
            if tracker is not None and tracker.generation == message.generation_id:
                tracker.pending.pop(message.offset, None)
        return counted

    def _new_offset(self, tp: Any) -> int | None:
        """faust's own (0.15.3) commits the first run of consecutive acknowledged offsets. With nothing committed
        yet on a partition, it commits past records still waiting in a stream, and an acknowledgement can come
        before the records ahead of it: a record passed over at the hand-over, or one faust's stream skips (and
        acknowledges) after a rebalance because it was fetched in the generation before. Both committed offsets
        whose records were never applied, and a killed worker lost them (issue 12: 94 of 2,000 orders). Here the
        offset is never past a record handed to a stream in this generation and not yet acknowledged."""
        tracker: _HandedOver | None = self.__dict__.get("_oms_handed_over", {}).get(tp)
        if tracker is None or tracker.generation != self.app.consumer_generation_id:
            return None
        safe = tracker.safe_offset()
        acked = self._acked[tp]
        if safe is not None and acked:  # faust's bookkeeping of what is acknowledged, below the safe offset: done
            kept = [offset for offset in acked if offset >= safe]
            self._acked_index[tp].difference_update(offset for offset in acked if offset < safe)
            acked[:] = kept
        return safe

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - the fetcher's loop
        """faust-streaming 0.15.3's `Consumer._drain_messages` (BSD-3), with the hand-over of `_deliver` and
        without its gap bookkeeping."""
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        commit_every = self._commit_every
        deliver = self._deliver
        yield_every = 100
        num_since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = cast(AsyncIterator[Any], getmany(timeout=1.0))
                await self.sleep(0)
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            # (faust's gap bookkeeping is not needed: `_new_offset` commits past every offset
                            # handed over, so offsets that hold no record are passed with them)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            await deliver(message)
                            set_read_offset(tp, offset)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _deliver(self, message: Any) -> None:
        if not self.flow_active or message.generation_id != self.app.consumer_generation_id:
            return  # a rebalance: the record is read again from the committed offset once it is over
        handed_over = self._handed_over(message.tp)
        if passes_over(cast(App, self.app).passed_over, message.topic, message.headers, message.value):
            handed_over.handed(message.offset, pending=False)
            self.ack(message)
            return
        handed_over.handed(message.offset, pending=self.app.topics.acks_enabled_for(message.topic))
        coroutine = self.callback(message)
        if not asyncio.iscoroutine(coroutine):
            await self.wait_first(coroutine, self.suspend_flow.wait())
            return
        finished, waiting_on = _step(coroutine)
        if not finished:  # it blocks: let a suspended flow (a rebalance) abandon it, as faust does
            await self.wait_first(_Resumed(coroutine, waiting_on), self.suspend_flow.wait())


def passes_over(passed_over: dict[str, frozenset[bytes]], topic: str, headers: Any, value: bytes | None) -> bool:
    """True for a record whose `oms-type` header names a type that every stage reading `topic` ignores, and whose
    bytes agree: the header is a hint any producer can set, so the record must also carry that type and a
    pipeline stage's source as the stages' own encoder writes them (anything else is read and judged)."""
    ignored = passed_over.get(topic)
    if not ignored or not headers or value is None:
        return False
    for name, kind in headers:
        if name == TYPE_HEADER:
            return bool(kind in ignored) and _written_by_a_stage(value, kind)
    return False


def _written_by_a_stage(value: bytes, kind: bytes) -> bool:
    return b'"type":"' + kind + b'"' in value and b'"source":"oms.pipeline.' in value


def kafka_producer(app: faust.App) -> Any:
    """faust's own started `AIOKafkaProducer` (the one its `topic.send` uses): a stage sends its output as record
    batches on it (`produce.send_records`)."""
    return cast(Any, app.producer)._ensure_producer()


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class App(faust.App):
    """A faust app on that transport; everything else as faust does it."""

    fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS
    # topic -> event types (as header bytes) that every agent reading the topic ignores; set by build_pipeline
    passed_over: dict[str, frozenset[bytes]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passed_over = {}

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)

    def on_init_dependencies(self) -> Any:
        dependencies = super().on_init_dependencies()
        # faust's Monitor keeps per-message statistics for its web view, which is off: four sensor calls a
        # message that nothing reads, about 2 % of a busy worker (py-spy, `oms bench`).
        if self.monitor in self.sensors:
            self.sensors.remove(self.monitor)
        return dependencies

    def on_rebalance_start(self) -> None:
        super().on_rebalance_start()
        # With no sensor faust's per-rebalance sensor state is empty, which it logs at every rebalance as
        # "Missing sensor state"; a placeholder keeps the log for what matters (no sensor ever reads it).
        self._rebalancing_sensor_state = self._rebalancing_sensor_state or {"sensors": None}
