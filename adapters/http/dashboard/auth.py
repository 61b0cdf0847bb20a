"""Dashboard sessions: an ops API key, posted once, buys a signed cookie; forms carry a per-session CSRF token.

The cookie is `<session id>.<expiry>.<signature>`, signed with HMAC-SHA256 under a secret derived from the
configured ops keys: sessions survive an API restart, every session ends when the keys change, and with no
keys configured nobody can log in. Nothing is stored server side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import SecretStr

from adapters.http.api.deps import Context

SESSION_COOKIE = "oms_dashboard"
SESSION_TTL = timedelta(hours=12)
LOGIN_PATH = "/dashboard/login"
HOME_PATH = "/dashboard"
NEXT_MAX_LENGTH = 2048
"""The longest page to go back to after logging in: what the log-in form takes back."""
_SECRET_LABEL = b"oms-dashboard-session-v1"


@dataclass(frozen=True)
class Session:
    id: str
    expires_at: int  # epoch seconds
    csrf: str


class LoginRequired(Exception):
    """No valid session: pages answer with a redirect to the login page."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


def session_secret(keys: Sequence[SecretStr]) -> bytes | None:
    """The signing secret, derived one-way from the ops keys; None when no key is configured."""
    if not keys:
        return None
    material = "\n".join(sorted(key.get_secret_value() for key in keys)).encode()
    return hmac.new(_SECRET_LABEL, material, hashlib.sha256).digest()


def _sign(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_session_cookie(secret: bytes, now: datetime) -> str:
    payload = f"{secrets.token_urlsafe(18)}.{int((now + SESSION_TTL).timestamp())}"
    return f"{payload}.{_sign(secret, payload)}"


def read_session(secret: bytes, cookie: str, now: datetime) -> Session | None:
    """The session the cookie carries, or None when it is malformed, forged or expired."""
    session_id, _, rest = cookie.partition(".")
    expires, _, signature = rest.partition(".")
    if not (session_id and expires.isdigit() and signature):
        return None
    if not hmac.compare_digest(signature, _sign(secret, f"{session_id}.{expires}")):
        return None
    if int(expires) <= now.timestamp():
        return None
    return Session(id=session_id, expires_at=int(expires), csrf=_sign(secret, f"csrf.{session_id}"))


def current_session(request: Request, context: Context) -> Session:
    secret = session_secret(context.settings.api_keys)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = read_session(secret, cookie, context.clock()) if secret and cookie else None
    if session is None:
        raise LoginRequired
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def check_csrf(session: Session, token: str) -> None:
    if not hmac.compare_digest(session.csrf.encode(), token.encode()):
        raise CsrfRejected


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a dashboard path of ours, never another site, and no longer than
    the log-in form takes back (a longer one made the log-in itself a 422)."""
    is_ours = target is not None and target.startswith(HOME_PATH) and not target.startswith("//") and "\\" not in target
    return target if target is not None and is_ours and len(target) <= NEXT_MAX_LENGTH else HOME_PATH


def login_redirect(request: Request) -> Response:
    if request.headers.get("HX-Request"):  # a polled fragment: tell htmx to load the login page
        return Response(status_code=401, headers={"HX-Redirect": LOGIN_PATH})
    target = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)


class DashboardRoute(APIRoute):
    """Routes of the dashboard: a missing session becomes a redirect, a bad CSRF token a 403 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except CsrfRejected:
                return PlainTextResponse("This form has expired: reload the page and try again.", status_code=403)

        return handle
