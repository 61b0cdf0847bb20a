"""Bytes <-> Event. Every way a message can be wrong raises one `DecodeError` saying what and where."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from events.base import EventData
from events.envelope import ACTOR_MAX_LENGTH, SPECVERSION, Event
from events.registry import model_for

ErrorKind = Literal["malformed_json", "not_cloudevent", "unknown_type", "unsupported_version", "invalid_data"]

_REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


class DecodeError(ValueError):
    """A message that is not a valid event of our contract. `kind` tells which way it is wrong."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message


def encode(event: Event[Any]) -> bytes:
    envelope = {
        "specversion": event.specversion,
        "id": str(event.id),
        "source": event.source,
        "type": event.type,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "subject": event.subject,
        "datacontenttype": event.datacontenttype,
        "schemaversion": event.schemaversion,
        "correlationid": event.correlationid,
        "causationid": event.causationid,
        "data": event.data.model_dump(mode="json", exclude_none=True),
    }
    if event.actor is not None:  # written only when set: events without it encode as they always did
        envelope["actor"] = event.actor
    return orjson.dumps(envelope)


def decode(raw: bytes | str) -> Event[EventData]:
    return decode_envelope(parse_envelope(raw))


def decode_envelope(envelope: dict[str, Any]) -> Event[EventData]:
    """The event in an envelope from `parse_envelope`, checked against the contract as `decode` does."""
    check_envelope(envelope)
    model = model_for(envelope["type"])
    if model is None:
        raise DecodeError("unknown_type", f"unknown event type {envelope['type']!r}")
    version = _schema_version(envelope, model)
    payload = envelope.get("data")
    if not isinstance(payload, dict):
        raise DecodeError("invalid_data", f"{model.event_type}: 'data' must be a JSON object")
    if version < model.schema_version:
        payload = model.upcast(version, payload)
    data = _validate_data(model, payload)
    return Event(
        id=_event_id(envelope["id"]),
        source=envelope["source"],
        type=model.event_type,
        time=_event_time(envelope.get("time")),
        subject=str(envelope.get("subject") or data.partition_key()),
        data=data,
        schemaversion=model.schema_version,
        correlationid=str(envelope.get("correlationid") or envelope["id"]),
        causationid=envelope.get("causationid"),
        actor=envelope.get("actor"),
    )


def parse_envelope(raw: bytes | str) -> dict[str, Any]:
    """The message's JSON object, not yet checked: enough to read its `type` and skip it cheaply."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("malformed_json", f"message value is not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise DecodeError("not_cloudevent", f"expected a JSON object, got {type(parsed).__name__}")
    return parsed


def check_envelope(envelope: dict[str, Any]) -> None:
    """The CloudEvents attributes are there and well-formed (not yet the `data`): cheap, raises `DecodeError`."""
    missing = [name for name in _REQUIRED_ATTRIBUTES if not envelope.get(name)]
    if missing:
        raise DecodeError("not_cloudevent", f"missing CloudEvents attribute(s): {', '.join(missing)}")
    if envelope["specversion"] != SPECVERSION:
        raise DecodeError("not_cloudevent", f"specversion must be '1.0', got {envelope['specversion']!r}")
    content_type = envelope.get("datacontenttype", "application/json")
    if content_type != "application/json":
        raise DecodeError("not_cloudevent", f"datacontenttype must be application/json, got {content_type!r}")
    for name in ("source", "type"):
        if not isinstance(envelope[name], str):
            raise DecodeError("not_cloudevent", f"'{name}' must be a string")
    for name in ("causationid", "actor"):
        value = envelope.get(name)
        if value is not None and not isinstance(value, str):
            raise DecodeError("not_cloudevent", f"'{name}' must be a string or null")
    if len(envelope.get("actor") or "") > ACTOR_MAX_LENGTH:
        raise DecodeError("not_cloudevent", f"'actor' must be at most {ACTOR_MAX_LENGTH} characters")


def _schema_version(envelope: dict[str, Any], model: type[EventData]) -> int:
    version = envelope.get("schemaversion", 1)
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DecodeError("unsupported_version", f"{model.event_type}: schemaversion must be a positive integer")
    if version > model.schema_version:
        raise DecodeError(
            "unsupported_version",
            f"{model.event_type}: schemaversion {version} is newer than this reader knows ({model.schema_version})",
        )
    return version


def _validate_data(model: type[EventData], payload: dict[str, Any]) -> EventData:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"data.{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise DecodeError("invalid_data", f"{model.event_type}: {problems}") from None


def _event_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise DecodeError("not_cloudevent", f"'id' must be a UUID, got {value!r}") from None


def _event_time(value: Any) -> datetime:
    if value is None:
        raise DecodeError("not_cloudevent", "missing CloudEvents attribute: time")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DecodeError("not_cloudevent", f"'time' must be RFC 3339, got {value!r}") from None
    if parsed.tzinfo is None:
        raise DecodeError("not_cloudevent", "'time' must carry a timezone offset")
    return parsed
