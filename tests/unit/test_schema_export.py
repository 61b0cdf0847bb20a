"""The published contract (`oms schema`): JSON Schema per type and the AsyncAPI document of the topics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from adapters.cli import app
from events import ALL_EVENT_MODELS, Event, EventData, encode, topics
from events.schema import ASYNCAPI_FILE, asyncapi_document, event_json_schema, schema_filename, write_schemas
from tests import builders as b
from tests.profiles import examples
from tests.unit.test_contract import events_of


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("schema")
    write_schemas(folder)
    return folder


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def validator_for(out: Path, event_type: str) -> Draft202012Validator:
    schema = read_json(out / f"{event_type}.schema.json")
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(out: Path, raw: dict[str, Any]) -> list[str]:
    validator = validator_for(out, raw["type"])
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(raw)]


# --- the files ------------------------------------------------------------------------------------


def test_one_schema_per_type_and_the_asyncapi_document(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "new" / "folder")

    names = sorted(path.name for path in written)
    assert names == sorted([*(schema_filename(model) for model in ALL_EVENT_MODELS), ASYNCAPI_FILE])
    assert all(path.is_file() for path in written)
    assert (tmp_path / "new" / "folder" / "oms.order.placed.schema.json") in written


def test_the_cli_writes_the_same_files(out: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert f"wrote {len(ALL_EVENT_MODELS) + 1} files to {tmp_path}" in result.output
    for path in out.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_writing_twice_gives_identical_files(out: Path, tmp_path: Path) -> None:
    write_schemas(tmp_path)

    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == {
        path.name: path.read_bytes() for path in out.iterdir()
    }


@pytest.mark.parametrize("model", ALL_EVENT_MODELS, ids=lambda model: model.event_type)
def test_every_schema_is_a_valid_draft_2020_12_schema(out: Path, model: type[EventData]) -> None:
    schema = read_json(out / schema_filename(model))

    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == orjson.loads(orjson.dumps(event_json_schema(model)))


@pytest.mark.parametrize("model", ALL_EVENT_MODELS, ids=lambda model: model.event_type)
def test_every_schema_describes_the_whole_cloudevent(out: Path, model: type[EventData]) -> None:
    schema = read_json(out / schema_filename(model))
    attributes = schema["properties"]

    assert set(attributes) == {
        *("specversion", "id", "source", "type", "time", "subject", "datacontenttype"),
        *("schemaversion", "correlationid", "causationid", "actor", "data"),
    }
    assert attributes["type"] == {"const": model.event_type}
    assert attributes["schemaversion"]["const"] == model.schema_version
    assert {"specversion", "id", "source", "type", "time", "schemaversion", "data"} <= set(schema["required"])
    assert "$defs" not in attributes["data"], "nested definitions are hoisted to the root"


# --- real events against their schema -------------------------------------------------------------

REAL_EVENTS = {
    "placed": lambda: b.order_placed(lines={"SKU-1": 2, "SKU-2": 1}, language="en-GB"),
    "placed, pending": lambda: b.order_placed(lines={"SKU-1": 1}, paid=False),
    "received": lambda: b.stock_received("SKU-1", 5, purchase_order="PO-1"),
    "incoming": lambda: b.incoming("SKU-1", 5, "PO-2"),
    "paid": lambda: b.paid("o-1", "12.50"),
    "cancel": lambda: b.cancel("o-1"),
}


@pytest.mark.parametrize("make", REAL_EVENTS.values(), ids=REAL_EVENTS.keys())
def test_an_encoded_event_validates_against_its_schema(out: Path, make: Any) -> None:
    raw = orjson.loads(encode(make()))

    assert errors_of(out, raw) == []


def _broken(change: Any) -> dict[str, Any]:
    raw = orjson.loads(encode(b.order_placed(lines={"SKU-1": 2})))
    change(raw)
    return raw


BROKEN_PLACED = {
    "qty 0": (lambda raw: raw["data"]["lines"][0].update(qty=0), "data/lines/0/qty"),
    "no lines": (lambda raw: raw["data"].update(lines=[]), "data/lines"),
    "bad email": (lambda raw: raw["data"]["customer"].update(email="nobody"), "data/customer/email"),
    "unknown field": (lambda raw: raw["data"].update(surprise=1), "data: Additional properties"),
    "missing customer": (lambda raw: raw["data"].pop("customer"), "data: 'customer' is a required property"),
    "old schemaversion": (lambda raw: raw.update(schemaversion=1), "schemaversion"),
    "bad specversion": (lambda raw: raw.update(specversion="0.3"), "specversion"),
    "no time": (lambda raw: raw.pop("time"), "'time' is a required property"),
    "time without offset": (lambda raw: raw.update(time="2026-01-31T12:00:00"), "time: '2026-01-31T12:00:00' does not"),
    "id not a uuid": (lambda raw: raw.update(id="42"), "id: '42' is not a 'uuid'"),
    "upper-case attribute": (lambda raw: raw.update(Extra="x"), "'Extra' does not match"),
}


@pytest.mark.parametrize(("change", "named"), BROKEN_PLACED.values(), ids=BROKEN_PLACED.keys())
def test_a_broken_event_does_not_validate(out: Path, change: Any, named: str) -> None:
    errors = errors_of(out, _broken(change))

    assert errors
    assert any(named in error for error in errors), errors


def test_another_types_event_does_not_validate_against_a_schema(out: Path) -> None:
    raw = orjson.loads(encode(b.paid("o-1", "10.00")))

    validator = validator_for(out, "oms.order.placed")

    assert not validator.is_valid(raw)


@pytest.mark.parametrize("model", ALL_EVENT_MODELS, ids=lambda model: model.event_type)
@settings(
    max_examples=examples(4, 40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_whatever_encode_writes_validates(out: Path, model: type[EventData], data: st.DataObject) -> None:
    event: Event[EventData] = data.draw(events_of(model))

    assert errors_of(out, orjson.loads(encode(event))) == []


# --- the AsyncAPI document -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asyncapi(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = read_json(out / ASYNCAPI_FILE)
    return document


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_asyncapi_is_version_3_and_matches_the_function(asyncapi: dict[str, Any]) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["info"]["title"] and asyncapi["info"]["version"]
    assert asyncapi == orjson.loads(orjson.dumps(asyncapi_document()))


def test_asyncapi_lists_the_five_topics_with_their_keys(asyncapi: dict[str, Any]) -> None:
    channels = asyncapi["channels"].values()

    assert sorted(channel["address"] for channel in channels) == sorted(topics.PUBLIC_TOPICS)
    for channel in channels:
        assert channel["bindings"]["kafka"]["topic"] == channel["address"]
        key = topics.TOPIC_KEYS[channel["address"]]
        for ref in channel["messages"].values():
            assert resolve(asyncapi, ref["$ref"])["bindings"]["kafka"]["key"]["description"] == key


def test_every_type_is_a_message_on_its_topic(asyncapi: dict[str, Any]) -> None:
    on_topic = {
        channel["address"]: {resolve(asyncapi, ref["$ref"])["name"] for ref in channel["messages"].values()}
        for channel in asyncapi["channels"].values()
    }

    for model in ALL_EVENT_MODELS:
        assert model.event_type in on_topic[model.topic], model.event_type
    assert sum(len(types) for types in on_topic.values()) == len(ALL_EVENT_MODELS)


def test_message_payloads_reference_the_written_schemas(asyncapi: dict[str, Any], out: Path) -> None:
    for message in asyncapi["components"]["messages"].values():
        payload = message["payload"]
        schema_file = out / payload["schema"]["$ref"]

        assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
        assert schema_file.is_file()
        assert read_json(schema_file)["properties"]["type"]["const"] == message["name"]


def test_each_topic_can_be_sent_and_received(asyncapi: dict[str, Any]) -> None:
    operations = asyncapi["operations"].values()

    for channel_id, channel in asyncapi["channels"].items():
        mine = [op for op in operations if op["channel"]["$ref"] == f"#/channels/{channel_id}"]
        assert sorted(op["action"] for op in mine) == ["receive", "send"]
        for operation in mine:
            assert [resolve(asyncapi, ref["$ref"]) for ref in operation["messages"]] == list(
                channel["messages"].values()
            )
