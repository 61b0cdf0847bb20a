"""The carrier delivery webhook."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from adapters.http.api.deps import Context, signed_or_ops
from adapters.http.api.errors import problem_responses
from adapters.http.api.intake import publish_action
from adapters.http.api.schemas import ActionAccepted, DeliveryReport
from adapters.http.api.views import accepted
from events import ShipmentDelivered

router = APIRouter(prefix="/api/v1/shipments", tags=["shipments"])


@router.post(
    "/delivered",
    status_code=202,
    response_model=ActionAccepted,
    dependencies=[Depends(signed_or_ops("carrier"))],
    responses=problem_responses(401, 422, 503),
)
async def report_delivery(body: DeliveryReport, context: Context) -> ActionAccepted:
    """Signed with `X-OMS-Signature` (secret `OMS_CHANNEL_SECRET_CARRIER`) or an ops API key.
    A carrier re-sending the same delivery repeats the same event id."""
    data = ShipmentDelivered(
        order_id=body.order_id, tracking_number=body.tracking_number, delivered_at=body.delivered_at
    )
    event = await publish_action(context, data, source="oms/api/carrier", dedup_key=body.tracking_number)
    return accepted(event)
