"""Logging in with an ops API key, and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.api.deps import Context, is_ops_key
from adapters.http.api.ratelimit import client_address
from adapters.http.dashboard.auth import (
    LOGIN_PATH,
    NEXT_MAX_LENGTH,
    SESSION_COOKIE,
    SESSION_TTL,
    CurrentSession,
    DashboardRoute,
    check_csrf,
    new_session_cookie,
    safe_next,
    session_secret,
)
from adapters.http.dashboard.render import page

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "login.html", None, next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def log_in(
    request: Request,
    context: Context,
    key: Annotated[str, Form(max_length=512)] = "",
    next: Annotated[str, Form(max_length=NEXT_MAX_LENGTH)] = "",
) -> Response:
    """A valid ops key sets the session cookie; anything else shows the form again (nothing open without keys).
    Failed attempts are rate-limited per client, so a key cannot be guessed by trying many."""
    limiter, client = context.login_limiter, client_address(request)
    if not limiter.has_tokens(client):
        return page(
            request,
            "login.html",
            None,
            status_code=429,
            headers={"Retry-After": str(limiter.retry_after())},
            next=safe_next(next),
            throttled=limiter.retry_after(),
        )
    secret = session_secret(context.settings.api_keys)
    if secret is None or not is_ops_key(context.settings.api_keys, key):
        limiter.allow(client)  # a failed attempt takes a token
        return page(request, "login.html", None, status_code=401, next=safe_next(next), failed=True)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new_session_cookie(secret, context.clock()),
        max_age=int(SESSION_TTL.total_seconds()),
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def log_out(session: CurrentSession, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response
