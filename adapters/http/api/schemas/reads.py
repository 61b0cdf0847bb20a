"""What every read body shares: built from the read model's rows, and pages of them."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class Page(ReadSchema, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
