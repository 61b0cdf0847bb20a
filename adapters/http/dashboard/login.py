"""Logging in with a user name and password (or, with no user name, a bootstrap ops key), and out.

Failed attempts are limited twice: per client address, so nobody guesses many accounts or keys from one place, and
per account, so nobody guesses one account's password from many. A failure takes a token from both buckets; a
throttled attempt takes none. The account's bucket is small and refills fast: one person's typos pause only their
own account, briefly, and leave the address enough tries for a colleague.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.http.api.deps import ApiContext, Context, matching_key, user_store
from adapters.http.api.ratelimit import TokenBucketLimiter, client_address
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
from adapters.sql.credentials import key_actor

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)
SecretField = Annotated[str, Form(max_length=512)]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return page(request, "login.html", None, next=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def log_in(
    request: Request,
    context: Context,
    username: Annotated[str, Form(max_length=64)] = "",
    password: SecretField = "",
    key: SecretField = "",  # the form before named accounts: a bootstrap key alone
    next: Annotated[str, Form(max_length=NEXT_MAX_LENGTH)] = "",
) -> Response:
    """Valid credentials set the session cookie; anything else shows the form again."""
    buckets = _buckets(context, client_address(request), username.strip())
    throttled = [limiter for limiter, name in buckets if not limiter.has_tokens(name)]
    if throttled:
        wait = max(limiter.retry_after() for limiter in throttled)
        headers = {"Retry-After": str(wait)}
        return page(request, "login.html", None, status_code=429, headers=headers, next=safe_next(next), throttled=wait)
    signed = _signed_cookie(context, username.strip(), password or key)
    if signed is None:
        for limiter, name in buckets:  # a failed attempt takes a token from each
            limiter.allow(name)
        return page(request, "login.html", None, status_code=401, next=safe_next(next), failed=True)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _buckets(context: ApiContext, client: str, username: str) -> list[tuple[TokenBucketLimiter, str]]:
    buckets = [(context.login_limiter, client)]
    if username and context.account_limiter is not None:
        buckets.append((context.account_limiter, username))
    return buckets


def _signed_cookie(context: ApiContext, username: str, secret: str) -> str | None:
    """A session cookie for whoever these credentials are, or None: without a user name, `secret` is a bootstrap key."""
    now = context.clock()
    if not username:
        key = matching_key(context.settings.api_keys, secret) if secret else None
        signing = session_secret(context.settings.api_keys)
        return new_session_cookie(signing, now, key_actor(key)) if key and signing else None
    store = user_store(context)
    user = store.authenticate(username, secret) if secret else None
    return new_session_cookie(store.session_secret(), now, user.name, user.session_generation) if user else None


@router.post("/logout")
def log_out(session: CurrentSession, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")
    return response
