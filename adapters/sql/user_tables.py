"""Named accounts and their personal API tokens, beside the views. No secret is stored as given: a password is
kept as its Argon2id hash, a token as its SHA-256 (`adapters.sql.credentials` says why each)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Connection, Integer, LargeBinary, MetaData, String, Table

from projections.tables import UtcDateTime

metadata = MetaData()

users = Table(
    "oms_users",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # a session names the generation it was made in: a bump (revoke, disable, reset) ends every older one at once
    Column("session_generation", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "oms_api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_name", String(40), nullable=False, index=True),
    Column("label", String(80), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

auth_secrets = Table(
    "oms_auth_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("secret", LargeBinary, nullable=False),  # signs the users' dashboard sessions; made once, at random
)


def create_user_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)
