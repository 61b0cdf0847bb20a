"""Error bodies: RFC 9457 problem details, with the fields a request got wrong."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    field: str
    message: str
    row: int | None = Field(default=None, description="CSV uploads: the row (the header is row 1).")
    detail: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None
