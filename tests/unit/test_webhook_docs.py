"""Issue 20.1: the subscriber's receiving code in the README and docs/webhooks.md runs, and verifies what the
deliverer signs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.outbound.webhook_sender import signed_headers
from pipeline.rules.webhook_delivery import new_secret

ROOT = Path(__file__).resolve().parents[2]


def receiving_code(doc: str) -> str:
    [code] = [block for block in re.findall(r"```python\n(.*?)```", doc, re.S) if "hooks.verify" in block]
    return code


@pytest.mark.parametrize("doc", ["README.md", "docs/webhooks.md"])
def test_the_documented_receiver_takes_a_signed_delivery_once_and_refuses_a_forged_one(
    doc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, body = new_secret(), b'{"id":"e-1","type":"oms.order.paid","subject":"o-1","data":{}}'
    monkeypatch.setenv("OMS_WEBHOOK_SECRET", secret)
    stored: list[Any] = []
    seen: set[str] = set()

    def store_once(webhook_id: str, event: Any) -> None:
        if webhook_id not in seen:
            seen.add(webhook_id)
            stored.append(event)

    scope: dict[str, Any] = {
        "store_once": store_once,
        "already_seen": seen.__contains__,
        "store": lambda event: (seen.add(event["id"]), stored.append(event)),
    }
    exec(receiving_code((ROOT / doc).read_text()), scope)
    headers = signed_headers(secret, "e-1", body.decode(), datetime.now(UTC))

    assert scope["receive"](body, headers) == 204
    assert scope["receive"](body, headers) == 204
    assert scope["receive"](body.replace(b"paid", b"placed"), headers) == 400
    assert stored == [{"id": "e-1", "type": "oms.order.paid", "subject": "o-1", "data": {}}]
