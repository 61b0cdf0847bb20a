"""Every event type has words a person understands, so a new type cannot reach the timeline unlabelled."""

from __future__ import annotations

from events import OrderCancelRequested, OrderRequestRefused
from events.labels import LABELS, label_of
from events.registry import ALL_EVENT_MODELS


def test_every_event_type_has_a_label() -> None:
    unlabelled = [model.event_type for model in ALL_EVENT_MODELS if not LABELS.get(model, "").strip()]
    assert unlabelled == []


def test_labels_are_words_not_type_strings() -> None:
    assert all("oms." not in label and "_" not in label for label in LABELS.values())
    assert len(set(LABELS.values())) == len(LABELS), "two types read the same"


def test_a_type_is_looked_up_by_its_class_and_an_unknown_one_shows_as_it_is() -> None:
    assert label_of(OrderCancelRequested.event_type) == "Cancellation requested"
    assert label_of(OrderRequestRefused.event_type) == "Request refused"
    assert label_of("oms.order.teleported") == "oms.order.teleported"
