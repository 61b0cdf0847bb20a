"""The ops dashboard, served by `oms api` under /dashboard: server-rendered pages (Jinja2, htmx vendored in
`static/`, inline SVG charts) over the projected views, behind a session bought with an ops API key."""

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from adapters.http.dashboard import actions, audit, desk, login, pages
from adapters.http.dashboard.render import STATIC_DIR, STATIC_URL

router = APIRouter()
for _module in (login, pages, actions, desk, audit):
    router.include_router(_module.router)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


__all__ = ["STATIC_URL", "router", "static_files"]
