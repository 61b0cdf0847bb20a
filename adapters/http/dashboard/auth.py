"""Dashboard sessions: a user name and password (or a bootstrap ops key), posted once, buy a signed cookie;
forms carry a per-session CSRF token, and each action asks for the role it needs.

The cookie is `<session id>.<actor>.<generation>.<expiry>.<signature>`, signed with HMAC-SHA256. A user's session
is signed under a random secret kept with the accounts, and read back against the account on every request: a user
disabled, reset or revoked (`oms users ...`) has a newer generation or is disabled, so each older session ends at
once, and a role change applies at the next page. A bootstrap key's session (actor `key:<id>`) is signed under a
secret derived from the configured keys, so those end when the keys change. No session itself is stored.
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

from adapters.http.api.deps import ApiContext, Context, user_store
from adapters.sql.credentials import Role, key_actor

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
    actor: str = ""
    """Who is logged in: a user name, or `key:<id>` for a bootstrap ops key."""
    role: Role = Role.VIEWER


class LoginRequired(Exception):
    """No valid session: pages answer with a redirect to the login page."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


class RoleRequired(Exception):
    """The session's role does not allow this: a 403 page."""

    def __init__(self, role: Role) -> None:
        super().__init__(f"This needs the {role.label} role.")
        self.role = role


def session_secret(keys: Sequence[SecretStr]) -> bytes | None:
    """The signing secret, derived one-way from the ops keys; None when no key is configured."""
    if not keys:
        return None
    material = "\n".join(sorted(key.get_secret_value() for key in keys)).encode()
    return hmac.new(_SECRET_LABEL, material, hashlib.sha256).digest()


def _sign(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_session_cookie(secret: bytes, now: datetime, actor: str, generation: int = 0) -> str:
    payload = f"{secrets.token_urlsafe(18)}.{actor}.{generation}.{int((now + SESSION_TTL).timestamp())}"
    return f"{payload}.{_sign(secret, payload)}"


@dataclass(frozen=True)
class _Cookie:
    session_id: str
    actor: str
    generation: int
    expires: int
    signature: str

    @property
    def payload(self) -> str:
        return f"{self.session_id}.{self.actor}.{self.generation}.{self.expires}"


def _parsed(cookie: str) -> _Cookie | None:
    parts = cookie.split(".")
    if len(parts) != 5 or not all(parts) or not (parts[2].isdigit() and parts[3].isdigit()):
        return None
    session_id, actor, generation, expires, signature = parts
    return _Cookie(session_id, actor, int(generation), int(expires), signature)


def read_session(secret: bytes, cookie: str, now: datetime, role: Role = Role.ADMIN) -> Session | None:
    """The session the cookie carries, or None when it is malformed, forged or expired."""
    parsed = _parsed(cookie)
    if parsed is None or not hmac.compare_digest(parsed.signature, _sign(secret, parsed.payload)):
        return None
    if parsed.expires <= now.timestamp():
        return None
    csrf = _sign(secret, f"csrf.{parsed.session_id}")
    return Session(id=parsed.session_id, expires_at=parsed.expires, csrf=csrf, actor=parsed.actor, role=role)


def _session_of(context: ApiContext, cookie: str) -> Session | None:
    parsed = _parsed(cookie)
    if parsed is None:
        return None
    now = context.clock()
    if parsed.actor.startswith("key:"):  # a bootstrap key's: still one of the configured keys
        secret = session_secret(context.settings.api_keys)
        keys = {key_actor(key.get_secret_value()) for key in context.settings.api_keys}
        return read_session(secret, cookie, now) if secret and parsed.actor in keys else None
    store = user_store(context)
    session = read_session(store.session_secret(), cookie, now)
    user = store.get(parsed.actor) if session is not None else None
    if session is None or user is None or user.disabled or user.session_generation != parsed.generation:
        return None
    return Session(session.id, session.expires_at, session.csrf, user.name, user.role)


def current_session(request: Request, context: Context) -> Session:
    cookie = request.cookies.get(SESSION_COOKIE)
    session = _session_of(context, cookie) if cookie else None
    if session is None:
        raise LoginRequired
    return session


CurrentSession = Annotated[Session, Depends(current_session)]


def operator_session(session: CurrentSession) -> Session:
    if session.role < Role.OPERATOR:
        raise RoleRequired(Role.OPERATOR)
    return session


def admin_session(session: CurrentSession) -> Session:
    if session.role < Role.ADMIN:
        raise RoleRequired(Role.ADMIN)
    return session


OperatorSession = Annotated[Session, Depends(operator_session)]
AdminSession = Annotated[Session, Depends(admin_session)]


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
            except RoleRequired as refused:
                return PlainTextResponse(f"{refused} Ask an admin.", status_code=403)

        return handle
