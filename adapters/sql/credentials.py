"""Roles, and how secrets are kept: passwords under Argon2id, personal API tokens under SHA-256.

A password is short and chosen by a person, so it is stored under a memory-hard hash (argon2-cffi's
`PasswordHasher`, its RFC 9106 low-memory profile) that makes guessing from a stolen table slow. A personal token
is 32 random bytes made here: nothing can guess it, so one fast SHA-256 is enough to keep it out of the table, and
lets a request find its token by an indexed lookup of the hash instead of trying a slow hash against every row.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import IntEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "oms_"
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
"""Lower-case letters, digits, `_` and `-`: never a `:`, so no user can pass for a bootstrap key (`key:<id>`)."""
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class Role(IntEnum):
    """Each role may do what the ones below it may: a viewer reads, an operator acts on orders and stock, an
    admin also manages users and webhooks."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, label: str) -> Role:
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"role must be viewer, operator or admin, not {label!r}") from None


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise ValueError("a user name is 1-40 lower-case letters, digits, '_' or '-', starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def is_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_password_time(password: str) -> None:
    """Spend what checking a password costs, for a name that has no account: the answer's timing tells nothing."""
    is_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no such account, only here to be checked against")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def key_actor(key: str) -> str:
    """How a bootstrap ops key is named in events and logs: `key:` and the start of its SHA-256, never the key."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:10]
