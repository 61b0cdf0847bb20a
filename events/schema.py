"""The published contract: one JSON Schema per CloudEvent type and an AsyncAPI 3 document of the topics.

The schemas describe what `events.codec.encode` writes (pydantic's serialization mode: money as strings,
instants as RFC 3339), so any producer that validates against them writes events our readers accept.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from events import topics
from events.base import EventData
from events.envelope import ACTOR_MAX_LENGTH, CONTENT_TYPE, SPECVERSION
from events.registry import ALL_EVENT_MODELS, types_on

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
ASYNCAPI_FILE = "asyncapi.json"
MESSAGE_CONTENT_TYPE = "application/cloudevents+json"
_PAYLOAD_SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
_KAFKA_BINDING_VERSION = "0.5.0"
# `format` is only an annotation to most validators; the pattern makes "with an offset" checkable.
_RFC3339_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
_REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "schemaversion", "data")


def schema_filename(model: type[EventData]) -> str:
    return f"{model.event_type}.schema.json"


def event_json_schema(model: type[EventData]) -> dict[str, Any]:
    """The whole CloudEvent of `model`'s type, as it appears in a Kafka message value."""
    data = model.model_json_schema(mode="serialization")
    definitions = data.pop("$defs", {})  # hoisted: `#/$defs/...` references resolve against the root
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": model.event_type,
        "description": (
            f"CloudEvents {SPECVERSION} (structured mode, JSON) of type {model.event_type} on topic "
            f"{model.topic}. The Kafka key is the {topics.TOPIC_KEYS[model.topic]} (data.{model.key_field}), "
            "also carried in `subject`."
        ),
        "type": "object",
        "properties": {**_envelope_properties(model), "data": data},
        "required": list(_REQUIRED_ATTRIBUTES),
        # CloudEvents attribute names, extensions included, are lower-case letters and digits.
        "propertyNames": {"pattern": "^[a-z0-9]+$"},
    }
    if definitions:
        schema["$defs"] = definitions
    return schema


def _envelope_properties(model: type[EventData]) -> dict[str, Any]:
    key = topics.TOPIC_KEYS[model.topic]
    return {
        "specversion": {"const": SPECVERSION, "description": "CloudEvents specification version."},
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "Unique per event; consumers drop duplicates by id.",
        },
        "source": {
            "type": "string",
            "minLength": 1,
            "format": "uri-reference",
            "description": "Who produced the event (a channel, a processor).",
        },
        "type": {"const": model.event_type},
        "time": {
            "type": "string",
            "format": "date-time",
            "pattern": _RFC3339_WITH_OFFSET,
            "description": "When it happened (RFC 3339, with `Z` or an offset).",
        },
        "subject": {
            "type": "string",
            "description": f"The Kafka key ({key}); defaults to data.{model.key_field} when absent.",
        },
        "datacontenttype": {"const": CONTENT_TYPE},
        "schemaversion": {
            "const": model.schema_version,
            "description": "Version of `data`'s shape. Readers upcast older versions; absent means 1.",
        },
        "correlationid": {
            "type": "string",
            "description": "The id of the first event of the story; defaults to `id` when absent.",
        },
        "causationid": {
            "type": ["string", "null"],
            "description": "The id of the event this one reacts to; null for a first event.",
        },
        "actor": {
            "type": ["string", "null"],
            "maxLength": ACTOR_MAX_LENGTH,
            "description": (
                "Who asked for an ops action: a user name, or `key:<id>` for a bootstrap ops key (never a secret). "
                "Optional: absent on events no person asked for, and on events written before it existed."
            ),
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per public topic, its messages, send and receive operations.

    Message payloads reference the per-type schema files written next to it by `write_schemas`.
    """
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics.PUBLIC_TOPICS:
        channel_id = _channel_id(topic)
        names = [model.__name__ for model in types_on(topic)]
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": f"Keyed by {topics.TOPIC_KEYS[topic]}: every event of one key shares a partition.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": _KAFKA_BINDING_VERSION}},
        }
        for action in ("send", "receive"):
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in names],
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "OMS order pipeline events",
            "version": _contract_version(),
            "description": (
                "Every order action is a CloudEvent 1.0 in structured JSON mode, one per Kafka message value. "
                "Topic names may carry a deployment prefix (OMS_TOPIC_PREFIX). Extension attributes: "
                "`schemaversion`, `correlationid`, `causationid`, and `actor` (who asked for an ops action)."
            ),
        },
        "defaultContentType": MESSAGE_CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "`oms broker` or docker-compose.kafka.yml",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": {model.__name__: _message(model) for model in ALL_EVENT_MODELS}},
    }


def _message(model: type[EventData]) -> dict[str, Any]:
    return {
        "name": model.event_type,
        "title": model.__name__,
        "summary": _summary(model),
        "contentType": MESSAGE_CONTENT_TYPE,
        "payload": {"schemaFormat": _PAYLOAD_SCHEMA_FORMAT, "schema": {"$ref": f"./{schema_filename(model)}"}},
        "correlationId": {"location": "$message.payload#/correlationid"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": topics.TOPIC_KEYS[model.topic]},
                "bindingVersion": _KAFKA_BINDING_VERSION,
            }
        },
    }


def _summary(model: type[EventData]) -> str:
    doc = inspect.cleandoc(model.__doc__) if model.__doc__ else ""
    return doc.splitlines()[0] if doc else f"{model.event_type} on {model.topic}"


def _channel_id(topic: str) -> str:
    return topic.removeprefix("oms.")


def _contract_version() -> str:
    try:
        return metadata.version("oms-pipeline")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def write_schemas(out: Path) -> list[Path]:
    """Write `<type>.schema.json` for every event type and `asyncapi.json` into `out`; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_json(out / schema_filename(model), event_json_schema(model)) for model in ALL_EVENT_MODELS]
    written.append(_write_json(out / ASYNCAPI_FILE, asyncapi_document()))
    return written


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    return path
