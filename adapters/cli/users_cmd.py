"""`oms users add|list|disable|enable|reset|role|revoke|token`: named accounts for the dashboard and the API.

The accounts live in the views database (OMS_DATABASE_URL, or SQLite under OMS_DATA_DIR). Passwords are asked for
(or given with --password, for scripts) and kept only as Argon2id hashes; a personal API token is printed once and
kept only as its SHA-256. The keys in OMS_API_KEYS stay valid as bootstrap admins.
"""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console
from rich.table import Table

from adapters.settings import Settings
from adapters.sql.credentials import Role
from adapters.sql.users import UnknownUser, UserExists, UserStore

console = Console()
users_app = typer.Typer(help="Named accounts: roles, passwords, sessions, personal API tokens.", no_args_is_help=True)
ROLE_HELP = "viewer (reads), operator (acts on orders and stock) or admin (also users and webhooks)."


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(users_app, name="users")
    for name, command in (
        ("add", add_cmd),
        ("list", list_cmd),
        ("disable", disable_cmd),
        ("enable", enable_cmd),
        ("reset", reset_cmd),
        ("role", role_cmd),
        ("revoke", revoke_cmd),
        ("token", token_cmd),
    ):
        users_app.command(name)(command)


def _store() -> UserStore:
    return UserStore.from_url(Settings().views_url)


def _role(label: str) -> Role:
    try:
        return Role.named(label)
    except ValueError as refused:
        raise typer.BadParameter(str(refused), param_hint="--role") from None


def _password(given: str | None) -> str:
    if given is not None:
        return given
    entered: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return entered


NAME = typer.Argument(..., help="The user name: lower-case letters, digits, '_' or '-'.")
PASSWORD = typer.Option(None, "--password", help="For scripts; without it the password is asked for, unechoed.")


def add_cmd(
    name: str = NAME, role: str = typer.Option(..., "--role", help=ROLE_HELP), password: str | None = PASSWORD
) -> None:
    """Add an account."""
    chosen = _role(role)
    try:
        user = _store().add(name, chosen, _password(password))
    except UserExists as refused:
        raise typer.BadParameter(str(refused), param_hint="NAME") from None
    except ValueError as refused:
        raise typer.BadParameter(str(refused)) from None
    typer.echo(f"added {user.name} ({user.role.label})")


def list_cmd() -> None:
    """The accounts: name, role, whether disabled, when added (never a password or token)."""
    table = Table(title="users")
    for column in ("name", "role", "status", "created_at"):
        table.add_column(column)
    for user in _store().all():
        table.add_row(
            user.name, user.role.label, "disabled" if user.disabled else "active", user.created_at.isoformat()
        )
    console.print(table)


def _changed(name: str, done: str, change: Callable[[], object]) -> None:
    try:
        change()
    except UnknownUser as refused:
        raise typer.BadParameter(str(refused), param_hint="NAME") from None
    except ValueError as refused:
        raise typer.BadParameter(str(refused)) from None
    typer.echo(f"{name}: {done}")


def disable_cmd(name: str = NAME) -> None:
    """Disable an account: its sessions end and its tokens stop working at once."""
    _changed(name, "disabled; sessions ended, tokens refused", lambda: _store().set_disabled(name, True))


def enable_cmd(name: str = NAME) -> None:
    """Enable a disabled account again (its old sessions stay ended)."""
    _changed(name, "enabled", lambda: _store().set_disabled(name, False))


def reset_cmd(name: str = NAME, password: str | None = PASSWORD) -> None:
    """Set a new password; every session made with the old one ends."""
    store = _store()
    if store.get(name) is None:
        raise typer.BadParameter(f"no user {name}", param_hint="NAME")
    new = _password(password)
    _changed(name, "password reset; sessions ended", lambda: store.reset_password(name, new))


def role_cmd(name: str = NAME, role: str = typer.Argument(..., help=ROLE_HELP)) -> None:
    """Give an account another role (applies at its next request)."""
    chosen = _role(role)
    _changed(name, f"now {chosen.label}", lambda: _store().set_role(name, chosen))


def revoke_cmd(
    name: str = NAME, tokens: bool = typer.Option(False, "--tokens", help="Also delete its personal API tokens.")
) -> None:
    """End every dashboard session of an account (and, with --tokens, delete its API tokens)."""
    store = _store()
    _changed(name, "sessions ended", lambda: store.revoke_sessions(name))
    if tokens:
        typer.echo(f"{name}: {store.revoke_tokens(name)} token(s) deleted")


def token_cmd(name: str = NAME, label: str = typer.Option("", "--label", help="What the token is for.")) -> None:
    """Make a personal API token (Authorization: Bearer <token>). It is printed once: only its hash is kept."""
    try:
        token = _store().issue_token(name, label)
    except UnknownUser as refused:
        raise typer.BadParameter(str(refused), param_hint="NAME") from None
    typer.echo(f"token for {name} (shown once): {token}")
