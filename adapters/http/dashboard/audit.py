"""The audit page: ops actions by person, newest first, read from the history archive (as `oms audit` does)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine, inspect

from adapters.http.api.deps import ApiContext, Context
from adapters.http.dashboard.auth import CurrentSession, DashboardRoute
from adapters.http.dashboard.render import page
from adapters.sql.engines import archive_url, engine_for
from projections.audit import ops_actions
from projections.tables import archive

router = APIRouter(prefix="/dashboard", route_class=DashboardRoute, include_in_schema=False)
PAGE_SIZE = 200


def history(context: ApiContext) -> Engine | None:
    """The history archive, once `oms project` has made it; None before."""
    if context.archive is None:
        context.archive = engine_for(archive_url(context.settings))
    engine: Engine = context.archive
    return engine if inspect(engine).has_table(archive.name) else None


def _since(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if value.strip() else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    context: Context,
    session: CurrentSession,
    user: Annotated[str, Query(max_length=80)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    engine = history(context)
    moment = _since(since)
    actions = []
    if engine is not None:
        with engine.connect() as conn:
            actions = ops_actions(conn, user=user.strip() or None, since=moment, limit=PAGE_SIZE)
    return page(
        request,
        "audit.html",
        session,
        actions=actions,
        user=user.strip(),
        since=since.strip(),
        bad_since=bool(since.strip()) and moment is None,
        archived=engine is not None,
    )
