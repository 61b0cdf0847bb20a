"""The statuses of the orders view as a choice, so the API and the CLI refuse a filter no order can match
(`?status=bogus` is a 422, `--status bogus` a usage error listing the statuses) instead of answering nothing."""

from __future__ import annotations

from enum import StrEnum

from projections.orders import STATUSES

OrderStatus = StrEnum("OrderStatus", [(status, status) for status in STATUSES])  # type: ignore[misc]
