"""The statuses of the orders view as a choice, so the API and the CLI refuse a filter no order can match
(`?status=bogus` is a 422, `--status bogus` a usage error listing the statuses) instead of answering nothing."""

from __future__ import annotations

from enum import StrEnum

from projections.order_list_queries import PAYMENT_STATUSES
from projections.order_progress import STATUSES

OrderStatus = StrEnum("OrderStatus", [(status, status) for status in STATUSES])  # type: ignore[misc]
PaymentStatus = StrEnum("PaymentStatus", [(status, status) for status in PAYMENT_STATUSES])  # type: ignore[misc]
