"""Named accounts as the API, the dashboard and `oms users` use them: who may log in, with which role, and which
personal tokens act for them. The tables are made on first use, in the views database."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from adapters.sql.credentials import (
    Role,
    burn_password_time,
    check_password,
    check_user_name,
    hash_password,
    is_password,
    new_token,
    token_hash,
)
from adapters.sql.engines import engine_for
from adapters.sql.user_tables import api_tokens, auth_secrets, create_user_tables, users


class UnknownUser(LookupError):
    """No account of that name."""


class UserExists(ValueError):
    """An account of that name is there already."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool
    session_generation: int
    created_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _user(row: Sequence[Any]) -> User:
    name, role, disabled, generation, created_at = row
    return User(name, Role.named(role), bool(disabled), int(generation), created_at)


_USER_COLUMNS = (users.c.name, users.c.role, users.c.disabled, users.c.session_generation, users.c.created_at)


@dataclass
class UserStore:
    engine: Engine
    _ready: bool = field(default=False, init=False, repr=False)
    _secret: bytes | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_url(cls, url: str) -> UserStore:
        return cls(engine_for(url))

    def prepare(self) -> None:
        if not self._ready:
            with self.engine.begin() as conn:
                create_user_tables(conn)
            self._ready = True

    def add(self, name: str, role: Role, password: str) -> User:
        row = {
            "name": check_user_name(name),
            "role": role.label,
            "password_hash": hash_password(check_password(password)),
            "disabled": False,
            "session_generation": 0,
            "created_at": _now(),
        }
        self.prepare()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(row))
        except IntegrityError:
            raise UserExists(f"there is a user {name} already") from None
        return _user(tuple(row[c.name] for c in _USER_COLUMNS))

    def get(self, name: str) -> User | None:
        self.prepare()
        with self.engine.connect() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(users.c.name == name)).first()
        return _user(row) if row is not None else None

    def all(self) -> list[User]:
        self.prepare()
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(select(*_USER_COLUMNS).order_by(users.c.name))]

    def authenticate(self, name: str, password: str) -> User | None:
        """The enabled user `name` when `password` is theirs. A missing name costs the same time as a wrong password."""
        self.prepare()
        with self.engine.connect() as conn:
            row = conn.execute(select(users.c.password_hash, *_USER_COLUMNS).where(users.c.name == name)).first()
        if row is None:
            burn_password_time(password)
            return None
        user = _user(tuple(row)[1:])
        return user if is_password(row.password_hash, password) and not user.disabled else None

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disabling ends the user's sessions at once; their tokens stop working while they are disabled."""
        self._update(name, disabled=disabled, session_generation=users.c.session_generation + 1)

    def reset_password(self, name: str, password: str) -> None:
        """A new password ends every session made with the old one."""
        digest = hash_password(check_password(password))
        self._update(name, password_hash=digest, session_generation=users.c.session_generation + 1)

    def set_role(self, name: str, role: Role) -> None:
        self._update(name, role=role.label)

    def revoke_sessions(self, name: str) -> None:
        self._update(name, session_generation=users.c.session_generation + 1)

    def issue_token(self, name: str, label: str = "") -> str:
        """A new personal API token for `name`: returned once, only its hash is kept."""
        if self.get(name) is None:
            raise UnknownUser(f"no user {name}")
        token = new_token()
        row = {"token_hash": token_hash(token), "user_name": name, "label": label[:80], "created_at": _now()}
        with self.engine.begin() as conn:
            conn.execute(insert(api_tokens).values(row))
        return token

    def revoke_tokens(self, name: str) -> int:
        self.prepare()
        with self.engine.begin() as conn:
            return conn.execute(delete(api_tokens).where(api_tokens.c.user_name == name)).rowcount

    def user_for_token(self, token: str) -> User | None:
        """The enabled user `token` acts for, or None."""
        self.prepare()
        query = select(*_USER_COLUMNS).join(api_tokens, api_tokens.c.user_name == users.c.name)
        with self.engine.connect() as conn:
            row = conn.execute(query.where(api_tokens.c.token_hash == token_hash(token))).first()
        user = _user(row) if row is not None else None
        return user if user is not None and not user.disabled else None

    def session_secret(self) -> bytes:
        """The key that signs users' dashboard sessions: made at random on first use, kept in the database so every
        API process shares it and sessions outlive a restart."""
        if self._secret is None:
            self.prepare()
            try:
                with self.engine.begin() as conn:
                    if _stored_secret(conn) is None:
                        conn.execute(insert(auth_secrets).values(name="sessions", secret=secrets.token_bytes(32)))
            except IntegrityError:  # another process made it first: theirs is the one
                pass
            with self.engine.connect() as conn:
                self._secret = _stored_secret(conn)
        if self._secret is None:
            raise RuntimeError("the session secret could not be stored")
        return self._secret

    def _update(self, name: str, **values: object) -> None:
        self.prepare()
        with self.engine.begin() as conn:
            if conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount == 0:
                raise UnknownUser(f"no user {name}")


def _stored_secret(conn: Connection) -> bytes | None:
    secret = conn.execute(select(auth_secrets.c.secret).where(auth_secrets.c.name == "sessions")).scalar_one_or_none()
    return bytes(secret) if secret is not None else None
