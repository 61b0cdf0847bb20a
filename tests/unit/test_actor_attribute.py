"""The `actor` extension attribute: who asked for an ops action. Optional, so events without it stay valid."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from events import DecodeError, OrderCancelRequested, decode, encode, new_event
from events.envelope import ACTOR_MAX_LENGTH
from events.schema import asyncapi_document, event_json_schema


def cancel_request(actor: str | None = None) -> Any:
    data = OrderCancelRequested(order_id="SHOP-1", reason="customer asked")
    return new_event(data, source="oms/api/ops", actor=actor)


def test_the_actor_survives_encoding_and_decoding() -> None:
    event = cancel_request("alice")
    assert orjson.loads(encode(event))["actor"] == "alice"
    assert decode(encode(event)) == event


def test_an_event_without_an_actor_encodes_as_before_and_decodes() -> None:
    event = cancel_request()
    assert "actor" not in orjson.loads(encode(event))
    assert decode(encode(event)).actor is None


@pytest.mark.parametrize("actor", [5, ["alice"], {"name": "alice"}, "x" * (ACTOR_MAX_LENGTH + 1)])
def test_an_actor_that_is_no_short_string_is_a_decode_error(actor: Any) -> None:
    envelope = orjson.loads(encode(cancel_request())) | {"actor": actor}
    with pytest.raises(DecodeError) as refused:
        decode(orjson.dumps(envelope))
    assert refused.value.kind == "not_cloudevent"


def test_the_schema_describes_the_actor_and_takes_events_with_and_without_it() -> None:
    schema = event_json_schema(OrderCancelRequested)
    validator = Draft202012Validator(schema)
    assert "actor" in schema["properties"] and "actor" not in schema["required"]
    for event in (cancel_request("key:0a1b2c3d4e"), cancel_request()):
        validator.validate(orjson.loads(encode(event)))
    too_long = orjson.loads(encode(cancel_request())) | {"actor": "x" * (ACTOR_MAX_LENGTH + 1)}
    assert list(validator.iter_errors(too_long))


def test_the_asyncapi_document_names_the_actor_extension() -> None:
    assert "`actor`" in asyncapi_document()["info"]["description"]
