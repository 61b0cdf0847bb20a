"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import inspect

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from adapters.http.api.deps import Context, ReadinessCheck
from adapters.http.api.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable."}})
async def readyz(context: Context) -> JSONResponse:
    """The broker and the database answer."""
    checks = {name: await _passes(check) for name, check in context.readiness.items()}
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", response_class=Response)
async def metrics(context: Context) -> Response:
    """Prometheus metrics: the API's own, dead letters by reason, desk items, and consumer and projector lag."""
    if context.monitor is not None:
        await context.monitor.refresh(context.metrics)
    return Response(context.metrics.exposition(), media_type=CONTENT_TYPE)


async def _passes(check: ReadinessCheck) -> bool:
    try:
        result = await run_in_threadpool(check)
        return bool(await result) if inspect.isawaitable(result) else bool(result)
    except Exception:  # a check that blows up is a check that failed
        return False
