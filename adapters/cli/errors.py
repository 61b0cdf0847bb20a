"""What `oms` says when the set-up is wrong: one or two lines that name the setting or address and the fix,
instead of a traceback. `oms --debug ...` (or `OMS_LOG_LEVEL=debug`) lets the traceback through."""

from __future__ import annotations

import os
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from adapters.bootstrap.broker import NoKafkaConfigured

EXIT_SETUP = 2  # a setting, an argument or the data folder is refused: nothing was started
EXIT_UNREACHABLE = 3  # a configured database or Kafka did not answer
DEBUG_HINT = "(oms --debug ... shows the traceback)"


class SetupError(Exception):
    """The command cannot run as configured; the message says what was looked for and how to fix it."""

    def __init__(self, message: str, exit_code: int = EXIT_SETUP) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class OmsGroup(TyperGroup):
    """The `oms` command group: a failure `explain` knows ends the command with its one- or two-line account."""

    def invoke(self, ctx: Any) -> Any:  # (typer's vendored click Context, not public as a type)
        try:
            return super().invoke(ctx)
        except Exception as error:
            problem = explain(error)
            if problem is None or wants_traceback(ctx):
                raise
            typer.secho(str(problem), fg=typer.colors.RED, err=True)
            raise typer.Exit(problem.exit_code) from None


def wants_traceback(ctx: Any) -> bool:
    return bool(ctx.params.get("debug")) or os.environ.get("OMS_LOG_LEVEL", "").strip().lower() == "debug"


def explain(error: BaseException) -> SetupError | None:
    """The short account of a failure a user can fix, or None for anything else (a bug: keep the traceback)."""
    if isinstance(error, SetupError):
        return error
    if isinstance(error, NoKafkaConfigured):
        return SetupError(str(error))
    if isinstance(error, ValidationError) and error.title == "Settings":
        return _settings_refused(error)
    return _database_problem(error) or _kafka_problem(error)


def _settings_refused(error: ValidationError) -> SetupError:
    from adapters.settings import Settings

    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        field = Settings.model_fields.get(name)
        secret = field is not None and "SecretStr" in str(field.annotation)
        shown = "(hidden)" if secret else repr(problem.get("input"))
        default = f"unset it for the default ({field.get_default(call_default_factory=True)!r})" if field else ""
        lines.append(f"OMS_{name.upper()}={shown} is refused: {problem['msg']}; fix it or {default}".rstrip("; "))
    lines.append("every setting is listed in the README's configuration table")
    return SetupError("\n".join(lines))


def _database_problem(error: BaseException) -> SetupError | None:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    configured = _configured("OMS_DATABASE_URL")
    where = f"OMS_DATABASE_URL={_without_password(configured)}" if configured else "OMS_DATA_DIR (SQLite)"
    if isinstance(error, NoSuchModuleError | ArgumentError):
        return SetupError(f"{where} is not a database URL SQLAlchemy can use: {_first_line(error)}")
    if isinstance(error, OperationalError):
        reason = _first_line(error.orig if error.orig is not None else error)
        return SetupError(
            f"the database did not answer: {reason}\ncheck {where}, or unset OMS_DATABASE_URL to use SQLite under "
            f"OMS_DATA_DIR {DEBUG_HINT}",
            EXIT_UNREACHABLE,
        )
    return None


def _kafka_problem(error: BaseException) -> SetupError | None:
    from aiokafka.errors import KafkaConnectionError

    if not isinstance(error, KafkaConnectionError):
        return None
    configured = _configured("OMS_KAFKA_BOOTSTRAP")
    where = f"OMS_KAFKA_BOOTSTRAP={configured} (or --bootstrap)" if configured else "--bootstrap"
    return SetupError(
        f"Kafka did not answer: {_first_line(error)}\ncheck {where} and that the broker runs {DEBUG_HINT}",
        EXIT_UNREACHABLE,
    )


def _configured(variable: str) -> str | None:
    return os.environ.get(variable) or None


def _without_password(url: str) -> str:
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _first_line(error: object) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
