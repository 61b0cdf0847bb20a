"""The dashboard's Jinja2 templates and the filters they format with."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from adapters.http.dashboard.auth import Session
from events.labels import label_of
from events.registry import model_for

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/dashboard/static"
EVENT_TYPE = re.compile(r"\boms\.[a-z]+\.[a-z_]+\b")

NOTICES = {
    "cancel-requested": "Cancellation requested: the order updates once the pipeline has processed it.",
    "stock-received": "Stock receipt recorded: the inventory updates in a moment.",
    "invalid": "Nothing was sent: check the form's fields.",
    "unavailable": "The event log did not answer; nothing was recorded. Try again.",
    "retried": "Retry published: the desk shows what became of it once the pipeline has processed it.",
}


def when(moment: datetime | None) -> Markup | str:
    """A `<time>` in UTC; static/local-time.js rewrites its text into the viewer's local time, UTC kept in its
    title. Without JavaScript the UTC text stays."""
    if moment is None:
        return "-"
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)  # the views store UTC
    utc = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), utc, utc)


def in_words(text: str | None) -> str:
    """`text` with each event type it names (a refusal's summary names the refused request's) in words."""
    return EVENT_TYPE.sub(
        lambda found: f"“{label_of(found[0]).lower()}”" if model_for(found[0]) else found[0], text or ""
    )


def money(amount: Decimal | str | None, currency: str | None = None) -> str:
    if amount is None:
        return "-"
    return f"{Decimal(amount):,.2f}" + (f" {currency}" if currency else "")


def b64text(encoded: str | None) -> str:
    """A dead letter's original bytes (base64) as text, undecodable bytes replaced."""
    return base64.b64decode(encoded or "").decode("utf-8", "replace")


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.1f} %"


@cache
def templates() -> Jinja2Templates:
    environment = Jinja2Templates(directory=TEMPLATES_DIR)
    environment.env.filters.update(
        when=when, label=label_of, in_words=in_words, money=money, percent=percent, b64text=b64text
    )
    environment.env.globals.update(static=STATIC_URL)
    return environment


def page(
    request: Request,
    name: str,
    session: Session | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page (or fragment) rendered with the session's CSRF token and the notice named in `?notice=`."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = {"session": session, "csrf": session.csrf if session else "", "notice": notice, **values}
    return templates().TemplateResponse(request, name, context, status_code=status_code, headers=headers)
