"""The README's configuration table, generated from `Settings` so that it cannot drift from the code.

python -m adapters.settings_doc --write   # rewrite the table in README.md
python -m adapters.settings_doc --check   # exit 1 when README.md differs (a unit test does the same)
"""

from __future__ import annotations

import argparse
import sys
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic.fields import FieldInfo

from adapters.settings import PER_CHANNEL_SETTINGS, Settings

BEGIN = "<!-- settings table: generated from adapters/settings.py by `python -m adapters.settings_doc --write` -->"
END = "<!-- end of settings table -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> str:
    """A Markdown table of every `OMS_*` variable: its default and what it does."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {_what(field)} |")
    for variable, (default, what) in PER_CHANNEL_SETTINGS.items():
        lines.append(f"| `{variable}` | {default} | {what} |")
    return "\n".join(lines)


def _default(field: FieldInfo) -> str:
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if value == "" or value == []:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value.value if isinstance(value, Enum) else value}`"


def _what(field: FieldInfo) -> str:
    what = (field.description or "").replace("|", "\\|")
    choices = _choices(field.annotation)
    if choices and len(choices) > 1:
        what += " One of " + ", ".join(f"`{choice}`" for choice in choices) + "."
    bounds = _bounds(field)
    return f"{what} {bounds}".strip()


def _choices(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    return ()


def _bounds(field: FieldInfo) -> str:
    low = next((f">= {m.ge}" for m in field.metadata if isinstance(m, Ge)), None)
    low = low or next((f"> {m.gt}" for m in field.metadata if isinstance(m, Gt)), None)
    high = next((f"<= {m.le}" for m in field.metadata if isinstance(m, Le)), None)
    found = [bound for bound in (low, high) if bound]
    return f"({', '.join(found)})" if found else ""


def readme_with_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the generated table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no settings table markers ({BEGIN!r} ... {END!r})")
    return f"{readme[: start + len(BEGIN)]}\n{settings_table()}\n{readme[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when README.md's table is out of date")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        print(settings_table())
        return 0
    current = README.read_text()
    wanted = readme_with_table(current)
    if args.write:
        README.write_text(wanted)
    elif wanted != current:
        print("README.md's settings table is out of date: run python -m adapters.settings_doc --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
