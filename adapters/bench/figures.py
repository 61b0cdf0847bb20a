"""The figures of a bench run apart from its phases: the machine it ran on, how many messages each topic took,
and how the worker compares with the baselines."""

from __future__ import annotations

import os
import platform
from typing import Any

from aiokafka import AIOKafkaConsumer

from adapters.kafka.offsets import log_end_offsets
from events import topics


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


async def log_sizes(bootstrap: str, prefix: str) -> dict[str, int]:
    """Messages on each topic whose name starts with `prefix` (the sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="oms-bench-sizes")
    await consumer.start()
    try:
        names = sorted(name for name in await consumer.topics() if name.startswith(prefix))
    finally:
        await consumer.stop()
    sizes: dict[str, int] = {}
    for (topic, _partition), end in (await log_end_offsets(bootstrap, names)).items():
        sizes[topic] = sizes.get(topic, 0) + end
    return sizes


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before.get(name, 0) for name in after}


def worker_inputs(moved: dict[str, int], prefix: str) -> int:
    """Messages the worker's agents read: orders, shipments (twice: order and shipment agents), inventory,
    notifications and the order-replies topic."""

    def n(name: str) -> int:
        return moved.get(prefix + name, 0)

    return (
        n(topics.ORDERS)
        + 2 * n(topics.SHIPMENTS)
        + n(topics.INVENTORY)
        + n(topics.NOTIFICATIONS)
        + n("oms-pipeline-order-replies")
    )


def add_ratios(result: dict[str, Any]) -> None:
    baselines = result.get("baselines", {})
    worker = result.get("worker_input_events_per_s", 0.0) / max(1, result.get("workers", 1))  # per worker
    faust = baselines.get("faust_agent", {}).get("events_per_s", 0.0)
    raw = baselines.get("raw_aiokafka", {}).get("events_per_s", 0.0)
    result["ratios"] = {
        "worker_vs_faust_agent": round(worker / faust, 2) if faust else None,
        "worker_vs_raw_aiokafka": round(worker / raw, 3) if raw else None,
    }
