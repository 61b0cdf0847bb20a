"""The exceptions desk on the real broker, with the real pipeline and projector running: garbage bytes and a refused
return appear on the desk (API and `oms deadletters list`) within seconds; a corrected retry is processed and the
desk shows it resolved; a retry of the refused return as it was is refused again and the desk says so."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from adapters.bootstrap.projector import build_projector
from adapters.cli import app as oms
from adapters.http.api import create_app
from adapters.kafka.publisher import KafkaPublisher
from adapters.settings import Settings
from adapters.sql.desk import SqlDesk
from adapters.sql.engines import engine_for
from events import LineQty, ReturnRequested, encode, new_event, topics
from tests import builders as b
from tests.integration.harness import Worker, produce, produce_raw

pytestmark = pytest.mark.integration
KEY = "desk-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
GARBAGE = b"\xff\x00 this is no event {"


@contextlib.asynccontextmanager
async def projecting(settings: Settings, bootstrap: str) -> AsyncIterator[None]:
    """The orders, inventory and desk projections, live, until the block ends."""
    with_kafka = settings.model_copy(update={"kafka_bootstrap": bootstrap})
    projector = build_projector(with_kafka, ("orders", "inventory", "desk"), batch_size=200)
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def cli(settings: Settings, *args: str) -> Any:
    env = {"OMS_DATA_DIR": str(settings.data_dir), "OMS_TOPIC_PREFIX": settings.topic_prefix}
    result = CliRunner().invoke(oms, ["deadletters", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def test_garbage_and_a_refused_return_reach_the_desk_and_a_corrected_retry_resolves(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(topic_prefix=topic_prefix, data_dir=tmp_path, partitions=4, api_keys=KEY)
    worker = Worker(kafka_bootstrap, topic_prefix, tmp_path).start()
    publisher = KafkaPublisher(kafka_bootstrap, settings.topic)
    await publisher.start()
    views = engine_for(settings.views_url)
    api = create_app(settings, publisher, desk=SqlDesk(views))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://desk")
    try:
        async with projecting(settings, kafka_bootstrap):
            placed = b.order_placed(lines={b.unique_sku("MUG"): 1})
            order_id = placed.subject
            early_return = new_event(ReturnRequested(order_id=order_id, lines=(LineQty(sku="X", qty=1),)), source="t")
            await produce(kafka_bootstrap, topic_prefix, [placed])
            await produce_raw(kafka_bootstrap, settings.topic(topics.ORDERS), b"o-garbage", GARBAGE)
            await produce(kafka_bootstrap, topic_prefix, [early_return])
            sent = time.monotonic()

            async def listed() -> dict[str, Any]:
                answer = await client.get("/api/v1/deadletters", params={"status": "open"}, headers=AUTH)
                assert answer.status_code == 200, answer.text
                items = answer.json()["items"]
                garbage = [i for i in items if i["category"] == "dead_letter" and i["subject"] == "o-garbage"]
                refused = [i for i in items if i["category"] == "refused" and i["event_id"] == str(early_return.id)]
                return {"garbage": garbage[0], "refused": refused[0]} if garbage and refused else {}

            items = await poll_async("both on the desk", listed, 30)
            took = time.monotonic() - sent
            assert items["garbage"]["kind"] == "malformed_json" and items["garbage"]["processor"] == "orders"
            assert items["refused"]["kind"] == "not_returnable" and items["refused"]["subject"] == order_id
            listing = orjson.loads(cli(settings, "list", "--status", "open", "--json"))
            assert {items["garbage"]["item_id"], items["refused"]["item_id"]} <= {
                i["item_id"] for i in listing["items"]
            }
            print(f"on the desk {took:.1f} s after they were sent")

            # a corrected retry of the garbage: a placement, published by `oms deadletters retry --event`
            garbage_id = items["garbage"]["item_id"]
            shown = await client.get(f"/api/v1/deadletters/{garbage_id}", headers=AUTH)
            assert shown.json()["original"] is not None and shown.json()["retries"] == []
            corrected = b.order_placed(lines={b.unique_sku("TEA"): 1})
            (tmp_path / "corrected.json").write_bytes(encode(corrected))
            said = await asyncio.to_thread(  # (the command runs its own event loop)
                cli,
                settings,
                "retry",
                garbage_id,
                "--event",
                str(tmp_path / "corrected.json"),
                "--bootstrap",
                kafka_bootstrap,
            )
            assert f"retried {garbage_id} as oms.order.placed" in said

            async def resolved() -> dict[str, Any]:
                answer = (await client.get(f"/api/v1/deadletters/{garbage_id}", headers=AUTH)).json()
                return answer if answer["status"] == "resolved" else {}

            detail = await poll_async("the corrected retry resolved", resolved, 45)
            [retry] = detail["retries"]
            assert retry["status"] == "resolved" and retry["type"] == "oms.order.placed" and retry["effects"]
            assert "resolved" in cli(settings, "show", garbage_id)

            # the refused return retried as it was, through the API: refused again, and the desk says so
            refused_id = items["refused"]["item_id"]
            answer = await client.post(f"/api/v1/deadletters/{refused_id}/retry", headers=AUTH)
            assert answer.status_code == 422, "a refusal keeps no original: a corrected event is asked for"
            again = early_return.model_dump(mode="json")
            answer = await client.post(f"/api/v1/deadletters/{refused_id}/retry", json={"event": again}, headers=AUTH)
            assert answer.status_code == 202, answer.text

            async def failed() -> dict[str, Any]:
                found = (await client.get(f"/api/v1/deadletters/{refused_id}", headers=AUTH)).json()
                return found if found["status"] == "failed" else {}

            detail = await poll_async("the unchanged retry refused again", failed, 45)
            assert detail["retries"][0]["retry_item"] is not None
            unauthorised = await client.get("/api/v1/deadletters")
            assert unauthorised.status_code == 401
    finally:
        await client.aclose()
        await publisher.stop()
        worker.stop()
        views.dispose()


async def poll_async(what: str, check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.3)
