"""Server time of every dashboard page and API list endpoint over seeded views (issue 15's benchmark).

    .venv/bin/python -m tests.dashboard_timing --orders 100000 [--database-url postgresql+psycopg://...]

Seeds the orders view through the projection's apply path (`--applied` orders received over the last 40 minutes).
When `--orders` asks for more, copies them in SQL up to `--orders`, copy n `n * --days-apart` days older
(`tests.bulk_views`, timing only: the customers and sales views count the applied orders alone), and writes
`--skus` inventory rows in bulk. Then asks each path `--repeat` times in process (FastAPI's TestClient: the
request's whole handling, no network) after one untimed warm-up, and prints p50 and p95 (nearest rank) per path
as a Markdown table.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.http.api import create_app
from adapters.http.api.sql_read_model import SqlReadModel
from adapters.kafka.publisher import RecordingPublisher
from adapters.settings import Settings
from adapters.sql.engines import drop_schema, engine_for
from tests.bulk_views import add_skus, copy_orders
from tests.view_seed import ViewSeeder, busy_stretch

KEY = "timing-key"
DASHBOARD = (
    "/dashboard",
    "/dashboard/live",
    "/dashboard/board",
    "/dashboard/orders",
    "/dashboard/orders?q=buyer12&sort=oldest",
    "/dashboard/orders?status=shipped&payment=paid",
    "/dashboard/orders/busy-000042",
    "/dashboard/inventory",
    "/dashboard/inventory?low=true",
    "/dashboard/feed",
    "/dashboard/analytics",
    "/dashboard/deadletters",
    "/dashboard/webhooks",
)
API = (
    "/api/v1/orders",
    "/api/v1/orders?status=shipped",
    "/api/v1/orders?q=buyer12&sort=oldest",
    "/api/v1/orders?offset=50000",
    "/api/v1/orders/busy-000042",
    "/api/v1/inventory",
    "/api/v1/inventory?low_only=true",
    "/api/v1/customers",
    "/api/v1/analytics",
    "/api/v1/deadletters",
    "/api/v1/webhooks",
)


def nearest_rank(sorted_values: list[float], share: float) -> float:
    return sorted_values[max(1, math.ceil(share * len(sorted_values))) - 1]


def seed(url: str, schema: str | None, args: argparse.Namespace) -> None:
    views = engine_for(url, schema=schema) if schema else engine_for(url)
    started = time.perf_counter()
    applied = min(args.orders, args.applied)
    ViewSeeder(views).add(busy_stretch(applied, end=datetime.now(UTC), minutes=40))
    print(f"applied {applied} orders in {time.perf_counter() - started:.1f} s ({views.dialect.name})")
    started = time.perf_counter()
    with views.begin() as conn:
        copy_orders(conn, math.ceil(args.orders / applied) - 1, days_apart=args.days_apart)
        add_skus(conn, args.skus)
    # planner statistics and (PostgreSQL) a visibility map, as autovacuum leaves a database that has run a while
    with views.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if views.dialect.name == "postgresql" else "ANALYZE")
    took = time.perf_counter() - started
    print(f"copied to {args.orders} orders ({args.days_apart} d apart), {args.skus} skus in {took:.1f} s")
    views.dispose()


def timed(client: TestClient, path: str, repeat: int) -> str:
    headers = {"Authorization": f"Bearer {KEY}"}
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        return f"| `{path}` | answered {response.status_code} | |"
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return f"| `{path}` | {nearest_rank(times, 0.50):.1f} | {nearest_rank(times, 0.95):.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--applied", type=int, default=10_000, help="orders applied; more are copies of these")
    parser.add_argument("--days-apart", type=int, default=1, help="copy n is n times this many days older (0: same)")
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        schema = f"timing_{int(time.time())}" if args.database_url else None
        url = args.database_url or f"sqlite:///{Path(folder) / 'views.sqlite3'}"
        seed(url, schema, args)
        views = engine_for(url, schema=schema) if schema else engine_for(url)
        settings = Settings(data_dir=Path(folder), api_keys=KEY)
        app = create_app(settings, RecordingPublisher(), read_model=SqlReadModel(views))
        try:
            with TestClient(app) as client:
                client.post("/dashboard/login", data={"key": KEY})
                print(f"| path ({views.dialect.name}, {args.orders} orders) | p50 ms | p95 ms |\n|---|---:|---:|")
                for path in (*DASHBOARD, *API):
                    print(timed(client, path, args.repeat), flush=True)
        finally:
            views.dispose()
            if schema:
                drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
