"""The idiomatic-faust baseline, run as a child: `async for` over a stream, `await topic.send` per event.

    python -m adapters.bench.faust_agent --bootstrap H:P --source T --sink T2 --count M --result F --app-id ID

Uses the pipeline's own faust settings (`pipeline.runtime.app.faust_app`), so only the agent's shape differs.
Writes {"events": M, "seconds": s} to F once the M-th output is acked, then idles until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

import orjson


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--bootstrap", "--source", "--sink", "--result", "--app-id", "--data-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    from adapters.bootstrap import pipeline_config, quiet_faust_worker
    from adapters.settings import Settings
    from pipeline.runtime.app import faust_app

    settings = Settings(
        kafka_bootstrap=args.bootstrap,
        topic_prefix="",
        partitions=args.partitions,
        pipeline_app=args.app_id,
        data_dir=args.data_dir,
    )
    config = pipeline_config(settings)
    app = faust_app(config)

    def raw_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

    source, sink = raw_topic(args.source), raw_topic(args.sink)
    result = Path(args.result)

    @app.agent(source, name="relay")
    async def relay(stream: Any) -> None:
        count, started = 0, 0.0
        async for key, value in stream.items():
            if count == 0:
                started = time.perf_counter()
            sent = await sink.send(key=key, value=value)
            count += 1
            if count == args.count:
                await sent  # the last output is on the broker
                seconds = time.perf_counter() - started
                await asyncio.to_thread(_write_atomically, result, orjson.dumps({"events": count, "seconds": seconds}))

    asyncio.set_event_loop(asyncio.new_event_loop())
    quiet_faust_worker(app, "warn").execute_from_commandline()  # the same worker set-up as `oms worker`


def _write_atomically(path: Path, data: bytes) -> None:
    """The bench polls for `path`: it must never see the file created but not yet written."""
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


if __name__ == "__main__":
    main()
