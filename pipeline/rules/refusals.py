"""A refused request, as the event the views show on the order's timeline."""

from __future__ import annotations

from events import OrderRequestRefused
from pipeline.rules.common import Refused
from pipeline.rules.order_state import OrderState


def refusal_of(state: OrderState, event_id: str, event_type: str, refused: Refused) -> OrderRequestRefused:
    return OrderRequestRefused(
        order_id=state.order_id,
        refused_event_id=event_id,
        refused_type=event_type,
        code=refused.code,
        reason=refused.reason,
    )
