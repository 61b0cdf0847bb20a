"""Every error the API answers, as RFC 9457 problem+json, mapped in this one place."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.channels import FieldError, PayloadInvalid
from adapters.kafka.publisher import PublishFailed

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """A domain error with its HTTP meaning. Subclasses fix status, title and problem type."""

    status = 500
    title = "Internal error"
    type = "about:blank"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}


class Unauthorized(ApiError):
    status, title, type = 401, "Unauthorized", "/problems/unauthorized"


class Forbidden(ApiError):
    status, title, type = 403, "Forbidden", "/problems/forbidden"


class NotFound(ApiError):
    status, title, type = 404, "Not found", "/problems/not-found"


class Unprocessable(ApiError):
    status, title, type = 422, "Unprocessable request", "/problems/unprocessable"


class PayloadTooLarge(ApiError):
    status, title, type = 413, "Payload too large", "/problems/payload-too-large"


class UnsupportedMediaType(ApiError):
    status, title, type = 415, "Unsupported media type", "/problems/unsupported-media-type"


class RateLimited(ApiError):
    status, title, type = 429, "Too many requests", "/problems/rate-limited"


class ServiceUnavailable(ApiError):
    status, title, type = 503, "Service unavailable", "/problems/unavailable"


def problem(
    request: Request,
    status: int,
    title: str,
    *,
    type_: str = "about:blank",
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "instance": request.url.path}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(request, exc.status, exc.title, type_=exc.type, detail=exc.detail, headers=exc.headers)


async def _payload_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PayloadInvalid)
    errors = [_field_problem(error) for error in exc.errors]
    return _invalid(request, errors)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "message": str(error["msg"])}
        for error in exc.errors()
    ]
    return _invalid(request, errors)


async def _publish_failed(request: Request, exc: Exception) -> JSONResponse:
    detail = "The event log did not acknowledge the events; nothing was recorded. Retry the request."
    return problem(request, 503, "Service unavailable", type_="/problems/unavailable", detail=detail)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own errors (no route, wrong method, an unreadable body): the status's name
    as the title, their message as the detail."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    return problem(request, exc.status_code, _phrase(exc.status_code), detail=str(exc.detail), headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The last resort, for whatever no handler maps: a 500 that tells nothing of the cause. The log keeps
    the traceback under the incident id the answer gives, with the method and path only: a query string
    or a body may carry personal data, so neither is logged."""
    incident = uuid.uuid4().hex[:12]
    log.error(
        "incident %s: unexpected %s answering %s %s",
        incident,
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    detail = f"The request failed on our side and was logged as incident {incident}."
    return problem(request, 500, "Internal error", type_="/problems/internal", detail=detail)


def _invalid(request: Request, errors: list[dict[str, Any]]) -> JSONResponse:
    detail = "; ".join(item.get("detail") or f"{item['field']}: {item['message']}" for item in errors)
    return problem(request, 422, "Invalid payload", type_="/problems/invalid-payload", detail=detail, errors=errors)


def _field_problem(error: FieldError) -> dict[str, Any]:
    item: dict[str, Any] = {"field": error.field, "message": error.message}
    if error.row is not None:
        item["row"] = error.row
        item["detail"] = str(error)
    return item


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]

_HANDLERS: dict[type[Exception], Handler] = {
    ApiError: _api_error,
    PayloadInvalid: _payload_invalid,
    RequestValidationError: _request_invalid,
    ValidationError: _request_invalid,
    PublishFailed: _publish_failed,
    StarletteHTTPException: _http_error,
}


def install_error_handlers(app: FastAPI) -> None:
    for error, handler in _HANDLERS.items():
        app.add_exception_handler(error, handler)
    # Starlette gives `Exception`'s handler to its outermost middleware, so it also answers for
    # errors raised in other middleware; it re-raises afterwards, for the server's own log.
    app.add_exception_handler(Exception, _unexpected)


async def problem_for(request: Request, exc: Exception) -> JSONResponse:
    """The answer to `exc`, for middleware that runs outside the app's exception handlers."""
    handler = next((h for error, h in _HANDLERS.items() if isinstance(exc, error)), _unexpected)
    return await handler(request, exc)


_DESCRIPTIONS = {
    401: "No valid ops API key or webhook signature.",
    404: "Not found.",
    413: "The body is too large.",
    415: "Wrong content type.",
    403: "Signed in, but the role does not allow this.",
    422: "Invalid payload; `errors` names each field in error.",
    429: "Too many requests; see Retry-After.",
    503: "The event log or database is unavailable; retry.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these problem statuses."""
    from adapters.http.api.schemas import Problem

    return {
        status: {"model": Problem, "description": _DESCRIPTIONS[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }
