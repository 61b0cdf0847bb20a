"""The shipping and notification stages around their ports, with recording fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from adapters.outbound.carriers import SimulatedCarrier
from events import LineQty, NotificationRequested, ShipmentRequested, new_event, utc_now
from pipeline.ports import OutgoingMessage
from pipeline.stages import notify, shipping
from pipeline.stages.processor import HandlerFailed


def shipment_request(order_id: str = "o-1") -> object:
    data = ShipmentRequested(order_id=order_id, shipment_id=f"{order_id}-S1", lines=(LineQty(sku="MUG", qty=2),))
    return new_event(data, source="tests")


async def test_a_booking_failing_a_few_times_is_retried_then_dispatched() -> None:
    carrier = SimulatedCarrier(fail_first=2)
    handle = shipping.handler(carrier, attempts=4, backoff_s=0.001)
    decision = await handle(None, shipment_request(), utc_now())  # type: ignore[arg-type]
    [dispatched] = decision.emitted
    assert dispatched.type == "oms.shipment.dispatched"
    assert dispatched.data.tracking_number.startswith("SIMS")  # type: ignore[attr-defined]
    assert len(carrier.attempts) == 3


async def test_a_carrier_that_keeps_failing_is_dead_lettered_with_the_reason() -> None:
    handle = shipping.handler(SimulatedCarrier(fail_first=10), attempts=3, backoff_s=0.001)
    with pytest.raises(HandlerFailed) as failed:
        await handle(None, shipment_request(), utc_now())  # type: ignore[arg-type]
    assert failed.value.kind == "carrier_failed"
    assert "failed 3 times" in failed.value.reason and "o-1-S1" in failed.value.reason


async def test_a_booked_shipment_is_not_booked_again() -> None:
    carrier = SimulatedCarrier()
    handle = shipping.handler(carrier, attempts=1, backoff_s=0)
    first = await handle(None, shipment_request(), utc_now())  # type: ignore[arg-type]
    again = await handle(first.state, shipment_request(), utc_now())  # type: ignore[arg-type]
    assert again.emitted == () and len(carrier.attempts) == 1


@dataclass
class RecordingNotifier:
    name: str = "recording"
    sent: list[OutgoingMessage] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> None:
        self.sent.append(message)


async def test_a_notification_is_rendered_in_the_customers_language_and_sent_once() -> None:
    notifier = RecordingNotifier()
    handle = notify.handler(notifier)
    request = new_event(
        NotificationRequested(
            order_id="o-9",
            kind="shipped",
            recipient="marie@example.fr",
            language="fr",
            params={"order_id": "o-9", "tracking_url": "https://t.example/1", "tracking_number": "1", "carrier": "x"},
        ),
        source="tests",
    )
    first = await handle(None, request, utc_now())  # type: ignore[arg-type]
    again = await handle(first.state, request, utc_now())  # type: ignore[arg-type]
    assert len(notifier.sent) == 1 and again.emitted == ()
    [sent] = first.emitted
    assert sent.data.request_id == str(request.id) and sent.data.language == "fr"  # type: ignore[attr-defined]
    assert "https://t.example/1" in notifier.sent[0].body
