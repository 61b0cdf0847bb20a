"""Carrier adapters. The built-in simulated carrier books instantly and makes realistic tracking numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

from events import ShipmentRequested
from pipeline.ports import Booking, CarrierUnavailable
from pipeline.rules.carriers import tracking_number_for, tracking_url


@dataclass
class SimulatedCarrier:
    """Deterministic by shipment id, so a re-booked shipment gets the same tracking number.

    `fail_first` makes the first N booking attempts fail, to exercise retries and dead-lettering.
    """

    name: str = "simship"
    fail_first: int = 0
    attempts: list[str] = field(default_factory=list)

    async def book(self, request: ShipmentRequested) -> Booking:
        self.attempts.append(request.shipment_id)
        if len(self.attempts) <= self.fail_first:
            raise CarrierUnavailable(f"simulated outage (attempt {len(self.attempts)})")
        number = tracking_number_for(request.shipment_id, self.name)
        return Booking(carrier=self.name, tracking_number=number, tracking_url=tracking_url(self.name, number))
