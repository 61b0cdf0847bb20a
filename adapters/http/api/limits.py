"""Bounds on request bodies, checked before any route reads one.

Every body is at most `MAX_BODY_BYTES` (413), and a JSON body nests arrays and objects at most
`MAX_JSON_DEPTH` deep (422). Python's JSON parser recurses once per level: a body of 100,000 `[` ended in
a `RecursionError`, a 500. The deepest payload a channel sends nests about eight levels.
"""

from __future__ import annotations

import email.message
import re

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.api.errors import PayloadTooLarge, problem_for
from adapters.http.channels import FieldError, PayloadInvalid

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a string with its escapes: brackets in it do not nest
_NOT_A_BRACKET = bytes(range(256)).translate(None, b"[]{}")
_OPENERS = frozenset(b"[{")


def is_nested_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in `body` nest deeper than `limit`, found without parsing it
    (strings are cut out, then the brackets are counted; it stops at the first level too deep)."""
    depth = 0
    for bracket in _JSON_STRING.sub(b"", body).translate(None, _NOT_A_BRACKET):
        depth += 1 if bracket in _OPENERS else -1
        if depth > limit:
            return True
    return False


def too_deep() -> PayloadInvalid:
    return PayloadInvalid([FieldError("(body)", f"nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")])


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"A request body may have at most {MAX_BODY_BYTES} bytes.")


def is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON: `application/json` or `application/<anything>+json`."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class RequestBodyLimits:
    """ASGI middleware: reads the whole body (at most `max_bytes`), checks it, and hands it on.

    It answers the problem itself because it runs outside the app's exception handlers; the answer
    comes from `errors.problem_for`, so the mapping of errors to HTTP stays in one place.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            body = await self._body(headers, receive)
            if body is not None and is_json(headers.get("content-type")) and is_nested_too_deep(body):
                raise too_deep()
        except (PayloadTooLarge, PayloadInvalid) as exc:
            response = await problem_for(Request(scope), exc)
            await response(scope, receive, send)
            return
        if body is not None:  # None: the client went away before it finished sending; nobody to answer
            await self.app(scope, _replaying(body, receive), send)

    async def _body(self, headers: Headers, receive: Receive) -> bytes | None:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large()  # refused before a byte of it is read
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large()  # a body sent without its length is stopped at the limit
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The app's `receive`: the body read already, in one message, then the client's own messages
    (a disconnect), as Starlette listens for them."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
