"""The HTTP API (FastAPI): channel intake, ops actions, reads, customer tracking and operations."""

from adapters.http.api.app import create_app

__all__ = ["create_app"]
