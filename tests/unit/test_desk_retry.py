"""What a retry of a desk item publishes: the original or a corrected event, under a new id caused by the item."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from adapters.sql.desk import NotRetryable, retry_event
from events import decode, encode
from projections.desk_reads import DeskItem, RetryOutcome
from tests import builders as b

ITEM_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"


def item(original: bytes | None, category: str = "dead_letter", retries: int = 0) -> DeskItem:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    done = tuple(RetryOutcome(f"r-{n}", "t", "oms.orders", 0, n, at) for n in range(retries))
    return DeskItem(
        ITEM_ID, category, "wrong_key", "why", "o-1", "orders", "oms.orders", 0, 7, None, None,
        base64.b64encode(original).decode() if original is not None else None, None, at, None, done,
    )  # fmt: skip


def test_the_original_is_published_again_under_a_new_id_caused_by_the_item() -> None:
    placed = b.order_placed("o-1", {"MUG": 1})
    retry = retry_event(item(encode(placed)))
    assert retry.id != placed.id and retry.data == placed.data and retry.source == placed.source
    assert (retry.causationid, retry.correlationid) == (ITEM_ID, ITEM_ID)
    assert decode(encode(retry)) == retry
    assert retry_event(item(encode(placed))).id == retry.id, "a retry sent twice repeats its id"
    assert retry_event(item(encode(placed), retries=1)).id != retry.id, "a second attempt is another event"


def test_garbage_needs_a_corrected_event_and_a_corrected_event_must_be_valid() -> None:
    with pytest.raises(NotRetryable, match="give a corrected event"):
        retry_event(item(b"\xffgarbage"))
    with pytest.raises(NotRetryable, match="malformed_json"):
        retry_event(item(b"\xffgarbage"), b"{not json")
    corrected = b.order_placed("o-2", {"TEA": 1})
    retry = retry_event(item(b"\xffgarbage"), encode(corrected))
    assert retry.subject == "o-2" and retry.causationid == ITEM_ID


def test_a_backorder_is_not_retried_and_a_refusal_has_no_original() -> None:
    with pytest.raises(NotRetryable, match="backorder"):
        retry_event(item(None, category="backorder"))
    with pytest.raises(NotRetryable, match="keeps no original"):
        retry_event(item(None, category="refused"))
