"""The offset a worker commits is never past a record a stream still holds (issue 12, item 1).

faust-streaming 0.15.3 commits the first run of consecutive acknowledged offsets. An acknowledgement can come
before the records ahead of it (a record passed over at the hand-over, or one faust's stream skips after a
rebalance), and with nothing committed yet, or one past the committed offset, faust committed over records
that were never applied: a worker killed then lost them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faust.transport.consumer import Consumer as FaustConsumer
from faust.types import TP
from faust.types.tuples import Message

from adapters.bootstrap import pipeline_config
from adapters.settings import Settings
from pipeline.runtime.faust_internals import App, _Consumer

TOPIC = "t.oms.notifications"
TP0 = TP(TOPIC, 0)


@pytest.fixture
def consumer() -> Iterator[_Consumer]:
    app = App("commit-test", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False)
    app.topic(TOPIC)  # acknowledgements count only for topics someone consumes
    app.topics._acking_topics.add(TOPIC)
    app.consumer_generation_id = 7
    built = app.consumer
    assert isinstance(built, _Consumer)
    yield built


def record(offset: int, generation: int = 7) -> Message:
    return Message(TOPIC, 0, offset, 0.0, 0, [], b"k", b"v", None, tp=TP0, generation_id=generation)


def handed(consumer: _Consumer, offset: int, *, passed_over: bool = False, generation: int = 7) -> Message:
    message = record(offset, generation)
    consumer._handed_over(TP0).handed(offset, pending=not passed_over)
    if passed_over:
        consumer.ack(message)
    return message


def test_a_record_passed_over_ahead_of_one_still_in_a_stream_does_not_move_the_commit(consumer: _Consumer) -> None:
    first = handed(consumer, 219)
    for offset in range(220, 309):
        handed(consumer, offset, passed_over=True)
    assert consumer._new_offset(TP0) == 219
    consumer.ack(first)
    assert consumer._new_offset(TP0) == 309


def test_faust_s_own_offset_would_have_skipped_the_record_still_in_the_stream(consumer: _Consumer) -> None:
    """What the test above guards against, shown on faust's own implementation."""
    handed(consumer, 219)
    for offset in range(220, 309):
        handed(consumer, offset, passed_over=True)
    assert FaustConsumer._new_offset(consumer, TP0) == 309


def test_an_acknowledgement_from_an_earlier_generation_counts_for_nothing(consumer: _Consumer) -> None:
    stale = record(5, generation=6)
    handed(consumer, 5)
    handed(consumer, 6)
    stale.refcount = 0
    consumer.ack(stale)
    assert consumer._new_offset(TP0) == 5


def test_records_read_again_after_a_seek_start_the_bookkeeping_over(consumer: _Consumer) -> None:
    handed(consumer, 10)
    handed(consumer, 11)
    again = handed(consumer, 10)
    assert consumer._new_offset(TP0) == 10
    consumer.ack(again)
    assert consumer._new_offset(TP0) == 11


def test_nothing_is_committed_for_a_partition_nothing_was_handed_over_from(consumer: _Consumer) -> None:
    assert consumer._new_offset(TP(TOPIC, 3)) is None


def test_a_new_generation_forgets_what_the_old_one_held(consumer: _Consumer) -> None:
    handed(consumer, 40)
    consumer.app.consumer_generation_id = 8
    assert consumer._new_offset(TP0) is None
    handed(consumer, 40, generation=8)
    assert consumer._new_offset(TP0) == 40


def test_the_app_is_built_on_this_consumer() -> None:
    app = App("x", broker="kafka://127.0.0.1:1", autodiscover=False, web_enabled=False)
    assert isinstance(app.consumer, _Consumer)
    assert pipeline_config(Settings(), "b").changelog_topic("t") == "oms-pipeline-t-changelog"
