"""Shipping stage: book each requested shipment with the carrier port, retrying with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events import Event, EventData, ShipmentDelivered, ShipmentDispatched, ShipmentRequested, caused_by
from pipeline.ports import Booking, Carrier, CarrierUnavailable
from pipeline.rules.carriers import backoff_delays
from pipeline.rules.common import Decision
from pipeline.stages.processor import HandlerFailed

log = logging.getLogger(__name__)

SOURCE = "oms.pipeline.stages.shipping"
IGNORED = frozenset({ShipmentDispatched.event_type, ShipmentDelivered.event_type})  # its own outputs, the carrier's


class ShippingState(BaseModel):
    model_config = ConfigDict(frozen=True)

    booked: dict[str, str] = {}  # shipment id -> tracking number


def dispatched(request: Event[EventData], data: ShipmentRequested, booking: Booking, now: datetime) -> Event[EventData]:
    payload: EventData = ShipmentDispatched(
        order_id=data.order_id,
        shipment_id=data.shipment_id,
        carrier=booking.carrier,
        tracking_number=booking.tracking_number,
        tracking_url=booking.tracking_url,
        lines=data.lines,
    )
    return caused_by(request, "dispatch", payload, source=SOURCE, time=now)


async def book_with_retries(carrier: Carrier, request: ShipmentRequested, attempts: int, backoff_s: float) -> Booking:
    delays = [0.0, *backoff_delays(attempts - 1, backoff_s, backoff_s * 16)]
    last_error = "no attempt made"
    for attempt, delay in enumerate(delays, start=1):
        await asyncio.sleep(delay)
        try:
            return await carrier.book(request)
        except CarrierUnavailable as error:
            last_error = str(error) or type(error).__name__
            log.warning("carrier %s attempt %d/%d failed: %s", carrier.name, attempt, len(delays), last_error)
    raise HandlerFailed(
        "carrier_failed", f"carrier {carrier.name} failed {len(delays)} times for {request.shipment_id}: {last_error}"
    )


def handler(
    carrier: Carrier, *, attempts: int, backoff_s: float
) -> Callable[[ShippingState | None, Event[EventData], datetime], Awaitable[Decision[ShippingState]]]:
    async def handle(state: ShippingState | None, event: Event[EventData], now: datetime) -> Decision[ShippingState]:
        state = state or ShippingState()
        request = event.data
        if not isinstance(request, ShipmentRequested) or request.shipment_id in state.booked:
            return Decision(state, ())
        booking = await book_with_retries(carrier, request, attempts, backoff_s)
        booked = {**state.booked, request.shipment_id: booking.tracking_number}
        return Decision(ShippingState(booked=booked), (dispatched(event, request, booking, now),))

    return handle
