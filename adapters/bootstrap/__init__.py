"""The composition root: one builder per runtime, each from `Settings` alone (tests pass their own fakes).

- `build_worker`: the stream processors (`oms worker`);
- `build_projector`: the views and the history archive (`oms project`);
- `build_api`: the HTTP API and dashboard (`oms api`);
- `build_demo`: what `oms demo` and its child processes share.

Every default is a field default of `Settings`; a builder reads its values there and nowhere else. Nothing is
connected while building: each runtime connects when it runs. Import a builder from its own module: each
runtime pays only for its own imports (the worker never loads the HTTP app)."""

from __future__ import annotations

# The helpers tests, the bench and the demo share; light to import (no faust, no HTTP app).
from adapters.bootstrap.worker import ensure_pipeline_topics, pipeline_config, quiet_faust_worker

__all__ = ["ensure_pipeline_topics", "pipeline_config", "quiet_faust_worker"]
