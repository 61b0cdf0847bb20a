"""The API's dependencies in one place: its context, the read-model port, and the auth checks."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, SecretStr
from sqlalchemy import Engine

from adapters.http.api.errors import Forbidden, Unauthorized
from adapters.http.api.metrics import ApiMetrics
from adapters.http.api.ratelimit import TokenBucketLimiter
from adapters.http.channels.signatures import SIGNATURE_HEADERS, is_valid_signature
from adapters.kafka.publisher import Publisher
from adapters.settings import Settings
from adapters.sql.credentials import TOKEN_PREFIX, Role, key_actor
from adapters.sql.intake import IntakeStore
from adapters.sql.users import UserStore
from adapters.sql.webhooks import WebhookStore
from projections.customer_queries import CustomerRow
from projections.inventory_queries import SkuRow
from projections.order_detail_queries import OrderDetailRow, OrderRow
from projections.order_list_queries import OrderListRow, OrderPage, OrderQuery
from projections.sales_queries import SalesReport

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def utc_instant(moment: datetime) -> datetime:
    """A query's time in UTC; without an offset it is UTC already. Bounded, so that the reads' day arithmetic
    stays inside what `datetime` can hold: `until=0001-01-01T00:00:00` overflowed in the analytics (a 500)."""
    try:
        utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return utc


QueryInstant = Annotated[datetime, AfterValidator(utc_instant)]
INSTANT = f"ISO 8601, UTC when without an offset, from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}"
"""How the OpenAPI document describes a `QueryInstant`."""


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    channel: str | None = None
    customer: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0


class ReadModel(Protocol):
    """The projected views, as the API reads them: the typed rows of the query modules of `projections`, from
    which the response schemas are built.

    Every method is synchronous (the routes run in a thread pool).
    """

    def list_orders(self, filters: OrderFilters, page: PageRequest) -> tuple[Sequence[OrderRow], int]: ...
    def get_order(self, order_id: str) -> OrderDetailRow | None:
        """The order with `lines` and `timeline` (oldest first), or None."""
        ...

    def list_inventory(self, page: PageRequest, low_only: bool = False) -> tuple[Sequence[SkuRow], int]:
        """A page of skus in sku order, and how many skus (low ones with `low_only`) the view holds."""
        ...

    def get_sku(self, sku: str) -> SkuRow | None: ...
    def list_customers(self, page: PageRequest) -> tuple[Sequence[CustomerRow], int]: ...
    def analytics(self, since: datetime | None, until: datetime | None) -> SalesReport: ...
    def find_for_tracking(self, reference: str) -> Sequence[OrderRow]:
        """Orders whose id or external reference is `reference`, each with `customer_email`."""
        ...

    def order_page(self, query: OrderQuery, limit: int, after: str | None = None) -> OrderPage:
        """A keyset page of the orders list (`projections.order_list_queries`); `BadCursor` for a foreign cursor."""
        ...

    def every_order(self, query: OrderQuery) -> Iterator[OrderListRow]:
        """Every order of the list, in its order, for an export."""
        ...

    def views(self) -> Engine | None:
        """The SQL views behind this read model, once the projections have created them, for the aggregates the
        dashboard computes over them (`projections.overview_queries`); None without (the in-memory model)."""
        ...


ReadinessCheck = Callable[[], bool | Awaitable[bool]]


class MetricsSource(Protocol):
    """Sets the figures `/metrics` reads from elsewhere (the broker, the views) just before a scrape."""

    async def refresh(self, metrics: ApiMetrics) -> None: ...


class DeskReads(Protocol):
    """The exceptions desk, as the API reads it (`adapters.sql.desk.SqlDesk`)."""

    def list_items(
        self, *, status: str | None = None, category: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[Sequence[Any], int]: ...
    def get_item(self, item_id: str) -> Any | None: ...


@dataclass
class ApiContext:
    settings: Settings
    publisher: Publisher
    intake_store: IntakeStore
    read_model: ReadModel
    metrics: ApiMetrics
    tracking_limiter: TokenBucketLimiter
    login_limiter: TokenBucketLimiter
    readiness: Mapping[str, ReadinessCheck]
    clock: Callable[[], datetime]
    desk: DeskReads | None = None
    monitor: MetricsSource | None = None
    webhooks: WebhookStore | None = None  # None: made from the settings on first use (routes/webhooks.py)
    users: UserStore | None = None  # None: made from the settings on first use (`user_store`)
    archive: Engine | None = None  # the history archive; None: made from the settings on first use (dashboard audit)
    account_limiter: TokenBucketLimiter | None = None  # failed log-ins per account; None: the default (app.py)


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


_bearer = HTTPBearer(
    auto_error=False, description="A personal API token (`oms users token`) or a bootstrap ops key from OMS_API_KEYS."
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Context = Annotated[ApiContext, Depends(api_context)]


@dataclass(frozen=True)
class Principal:
    """Who is asking: `actor` names them in events and logs (a user name, or `key:<id>` for a bootstrap key)."""

    actor: str
    role: Role


def matching_key(keys: Sequence[SecretStr], presented: str) -> str | None:
    """The configured key `presented` is, compared with every key in constant time; None when none (or no keys)."""
    found = None
    for key in keys:
        if hmac.compare_digest(key.get_secret_value().encode(), presented.encode()):
            found = key.get_secret_value()
    return found


def is_ops_key(keys: Sequence[SecretStr], presented: str) -> bool:
    return matching_key(keys, presented) is not None


def has_ops_key(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> bool:
    return credentials is not None and is_ops_key(settings.api_keys, credentials.credentials)


def user_store(context: ApiContext) -> UserStore:
    """The accounts, in the views database, made on first use (a request with a bootstrap key touches no table)."""
    if context.users is None:
        context.users = UserStore.from_url(context.settings.views_url)
    store: UserStore = context.users
    return store


def bearer_principal(context: ApiContext, presented: str) -> Principal | None:
    """A bootstrap ops key is an admin; a personal token acts for its user while they are enabled."""
    key = matching_key(context.settings.api_keys, presented)
    if key is not None:
        return Principal(key_actor(key), Role.ADMIN)
    if presented.startswith(TOKEN_PREFIX):
        user = user_store(context).user_for_token(presented)
        if user is not None:
            return Principal(user.name, user.role)
    return None


def _principal_with(role: Role) -> Callable[[ApiContext, HTTPAuthorizationCredentials | None], Principal]:
    def check(context: Context, credentials: BearerCredentials) -> Principal:
        principal = bearer_principal(context, credentials.credentials) if credentials else None
        if principal is None:
            raise Unauthorized(
                "A personal API token or an ops API key is required: Authorization: Bearer <token>.",
                headers=BEARER_CHALLENGE,
            )
        if principal.role < role:
            raise Forbidden(f"This needs the {role.label} role; {principal.actor} is a {principal.role.label}.")
        return principal

    return check


require_viewer = _principal_with(Role.VIEWER)
require_operator = _principal_with(Role.OPERATOR)
require_admin = _principal_with(Role.ADMIN)
ViewerOf = Annotated[Principal, Depends(require_viewer)]
OperatorOf = Annotated[Principal, Depends(require_operator)]
AdminOf = Annotated[Principal, Depends(require_admin)]
Viewer = Depends(require_viewer)
Operator = Depends(require_operator)
Admin = Depends(require_admin)
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
OpsKey = Admin
"""The old check, kept for routes not yet given their role: admin only, so a route added without one fails closed."""


def has_valid_signature(settings: Settings, sender: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """The body carries the signature of `sender`'s secret (OMS_CHANNEL_SECRET_<SENDER>) in its header."""
    secret = settings.channel_secret(sender)
    signature = headers.get(SIGNATURE_HEADERS[sender])
    return is_valid_signature(body, secret.get_secret_value() if secret else None, signature)


def signed_or_ops(sender: str) -> Callable[..., Awaitable[None]]:
    """A webhook check: the body signed by `sender`, or an operator's token (or an ops API key)."""

    async def check(request: Request, context: Context, credentials: BearerCredentials) -> None:
        principal = bearer_principal(context, credentials.credentials) if credentials else None
        if principal is not None and principal.role >= Role.OPERATOR:
            return
        if not has_valid_signature(context.settings, sender, await request.body(), request.headers):
            raise Unauthorized(f"A valid {SIGNATURE_HEADERS[sender]} signature or an ops API key is required.")

    return check


MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000_000
"""Further than any view will grow; unbounded, 10**21 reached SQLite, which binds 64-bit integers only (a 500)."""


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(page_request)]


def webhook_store(context: Context) -> WebhookStore:
    """The store in the views database, made on first use (an API without webhooks touches no database for them)."""
    if context.webhooks is None:
        context.webhooks = WebhookStore.from_url(context.settings.views_url)
    store: WebhookStore = context.webhooks
    return store
