"""Customers and analytics, for ops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from adapters.http.api.deps import INSTANT, Context, Paging, QueryInstant, Viewer
from adapters.http.api.errors import problem_responses
from adapters.http.api.schemas import Analytics, CustomerSummary, Page
from adapters.http.api.views import as_schema, page_of

router = APIRouter(prefix="/api/v1", tags=["customers", "analytics"], dependencies=[Viewer])


@router.get("/customers", response_model=Page[CustomerSummary], responses=problem_responses(401, 422))
def list_customers(context: Context, paging: Paging) -> Page[CustomerSummary]:
    items, total = context.read_model.list_customers(paging)
    return page_of(CustomerSummary, items, total, paging)


@router.get("/analytics", response_model=Analytics, responses=problem_responses(401, 422))
def analytics(
    context: Context,
    since: Annotated[QueryInstant | None, Query(description=f"From, inclusive ({INSTANT}).")] = None,
    until: Annotated[QueryInstant | None, Query(description=f"To, exclusive ({INSTANT}).")] = None,
) -> Analytics:
    """Orders, units and revenue per currency, by channel and top skus."""
    return as_schema(Analytics, context.read_model.analytics(since, until))
