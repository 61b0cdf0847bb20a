"""Server time of the dashboard's overview and orders list over a seeded view (issue 15).

    .venv/bin/python -m tests.dashboard_timing --orders 5000 [--database-url postgresql+psycopg://...]

Seeds the orders view through the projection's apply path (orders received over the last 40 minutes), then asks
each page `--repeat` times in process (FastAPI's TestClient: the request's whole handling, no network) and prints
the median and the slowest time per page.
"""

from __future__ import annotations

import argparse
import statistics
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
from tests.view_seed import ViewSeeder, busy_stretch

KEY = "timing-key"
PAGES = (
    "/dashboard",
    "/dashboard/live",
    "/dashboard/board",
    "/dashboard/orders",
    "/dashboard/orders?q=buyer12&sort=oldest",
    "/dashboard/orders?status=shipped&payment=paid",
    "/dashboard/analytics",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        schema = f"timing_{int(time.time())}" if args.database_url else None
        url = args.database_url or f"sqlite:///{Path(folder) / 'views.sqlite3'}"
        views = engine_for(url, schema=schema) if schema else engine_for(url)
        now = datetime.now(UTC)
        started = time.perf_counter()
        ViewSeeder(views).add(busy_stretch(args.orders, end=now, minutes=40))
        print(f"seeded {args.orders} orders in {time.perf_counter() - started:.1f} s ({views.dialect.name})")
        app = create_app(
            Settings(data_dir=Path(folder), api_keys=KEY), RecordingPublisher(), read_model=SqlReadModel(views)
        )
        with TestClient(app) as client:
            client.post("/dashboard/login", data={"key": KEY})
            for path in PAGES:
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    print(f"{path:50} answered {response.status_code}")
                    continue
                median, slowest = statistics.median(times) * 1000, max(times) * 1000
                print(f"{path:50} median {median:7.1f} ms   slowest {slowest:7.1f} ms")
        views.dispose()
        if schema and args.database_url:
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
