"""HTTP routes of notifications under ``/api/v1/notifications`` (docs/notifications.md "API")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.core.db import utcnow
from app.core.deps import MAX_DB_ID, IdPath, InvalidCursor, PageDep, SessionDep, SettingsDep, release
from app.core.errors import NotFound
from app.core.openapi import errors
from app.notifications import outbox, service, worker
from app.notifications.kinds import EVENT_TYPES
from app.notifications.models import Delivery
from app.notifications.permissions import NotifyManager, NotifyReader, own_unit
from app.notifications.safety import TargetRefused
from app.notifications.schemas import (
    DeliveryList,
    DeliveryOut,
    DeliveryStatus,
    EndpointCreated,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointPatch,
    Kind,
    TestOutcome,
)
from app.notifications.sending import attempt
from app.notifications.service import DeliveryPending

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_DB_ID)]


@router.post(
    "/endpoints",
    response_model=EndpointCreated,
    status_code=201,
    summary="Add an endpoint",
    responses=errors(TargetRefused),
)
async def create_endpoint(
    data: EndpointIn, _: NotifyManager, session: SessionDep, settings: SettingsDep
) -> EndpointCreated:
    """A webhook (its ``whsec_`` secret is in this answer only) or a WeCom, DingTalk or Feishu group bot, for a
    unit or (no ``unit_id``) the command centre. 422 ``target_not_allowed`` for a URL that is, or resolves to,
    a loopback, private, link-local or multicast address outside ``GRID_NOTIFY_ALLOW_NETWORKS``."""
    return await service.create_endpoint(session, settings, data)


@router.get(
    "/endpoints",
    response_model=EndpointList,
    summary="Endpoints (a unit's staff: their unit's)",
    responses=errors(InvalidCursor),
)
async def list_endpoints(
    principal: NotifyReader,
    session: SessionDep,
    page: PageDep,
    unit: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="a unit's endpoints")] = None,
    kind: Annotated[Kind | None, Query(description="webhook, wecom, dingtalk or feishu")] = None,
) -> EndpointList:
    rows = await service.list_endpoints(session, page, own_unit(principal), unit, kind)
    return EndpointList(
        items=[await service.endpoint_out(session, e) for e in rows[: page.limit]],
        next_cursor=page.next_cursor(rows),
    )


@router.get(
    "/endpoints/{endpoint_id}", response_model=EndpointOut, summary="One endpoint", responses=errors(NotFound)
)
async def get_endpoint(endpoint_id: IdPath, principal: NotifyReader, session: SessionDep) -> EndpointOut:
    return await service.endpoint_out(
        session, await service.get_endpoint(session, endpoint_id, own_unit(principal))
    )


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointOut,
    summary="Edit, disable or re-enable",
    responses=errors(NotFound, TargetRefused),
)
async def update_endpoint(
    endpoint_id: IdPath, data: EndpointPatch, _: NotifyManager, session: SessionDep, settings: SettingsDep
) -> EndpointOut:
    endpoint = await service.get_endpoint(session, endpoint_id)
    await service.update_endpoint(session, settings, endpoint, data)
    return await service.endpoint_out(session, endpoint)


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=204,
    summary="Remove an endpoint (its deliveries stay)",
    responses=errors(NotFound),
)
async def delete_endpoint(endpoint_id: IdPath, _: NotifyManager, session: SessionDep) -> Response:
    endpoint = await service.get_endpoint(session, endpoint_id)
    endpoint.deleted_at, endpoint.active = utcnow(), False
    await session.flush()
    return Response(status_code=204)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointCreated,
    summary="A new webhook secret; both are signed with for 24 h",
    responses=errors(NotFound),
)
async def rotate_secret(
    endpoint_id: IdPath, _: NotifyManager, session: SessionDep, settings: SettingsDep
) -> EndpointCreated:
    endpoint = await service.get_endpoint(session, endpoint_id)
    secret = await service.rotate_secret(session, settings, endpoint)
    return EndpointCreated(**(await service.endpoint_out(session, endpoint)).model_dump(), secret=secret)


@router.post(
    "/endpoints/{endpoint_id}/test",
    response_model=TestOutcome,
    summary="Send endpoint.test now",
    responses=errors(NotFound),
)
async def test_endpoint(
    endpoint_id: IdPath, request: Request, _: NotifyManager, session: SessionDep, settings: SettingsDep
) -> TestOutcome:
    """Writes an ``endpoint.test`` event and its delivery, sends it at once and answers the attempt's outcome.
    The delivery is kept whatever happens (a failed one is retried like any other)."""
    endpoint = await service.get_endpoint(session, endpoint_id)
    now = utcnow()
    data = {"note": f"测试推送：「{endpoint.name}」能收到指挥中心的消息。"}
    event = await outbox.record(
        session, "endpoint.test", data, [endpoint], unit_id=endpoint.unit_id, occurred_at=now
    )
    assert event is not None
    owner = f"test:{worker.worker_id()}"
    delivery = (await session.execute(select(Delivery).where(Delivery.event_id == event.id))).scalar_one()
    delivery.status, delivery.lease_owner, delivery.attempts = "sending", owner, 1
    delivery.lease_until = now + dt.timedelta(seconds=worker.lease_s(settings))
    await session.flush()
    await release(session)  # kept before the network is touched; no lock held while it answers
    async with worker.http_client(settings) as client:
        outcome = await attempt(client, settings, endpoint, [event])
    await worker.record(
        request.app.state.db, settings, worker.Claim(endpoint, [(delivery, event)]), owner, outcome, now
    )
    await session.refresh(delivery)
    [shown] = await service.deliveries_out(session, [(delivery, event)])
    return TestOutcome(delivery=shown, delivered=outcome.ok)


@router.get(
    "/deliveries",
    response_model=DeliveryList,
    summary="Deliveries with their attempts, newest first",
    responses=errors(InvalidCursor),
)
async def list_deliveries(
    principal: NotifyReader,
    session: SessionDep,
    page: PageDep,
    endpoint: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="one endpoint's")] = None,
    case: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="about one case")] = None,
    status: Annotated[
        DeliveryStatus | None, Query(description="pending, sending, delivered or failed")
    ] = None,
    event: Annotated[
        str | None, Query(max_length=40, description=f"an event type: {', '.join(EVENT_TYPES)}")
    ] = None,
) -> DeliveryList:
    rows = await service.list_deliveries(session, page, own_unit(principal), endpoint, case, status, event)
    items = await service.deliveries_out(session, rows[: page.limit])
    cursor = page.next_cursor([d for d, _ in rows])
    return DeliveryList(items=items, next_cursor=cursor)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    summary="One delivery with its attempts",
    responses=errors(NotFound),
)
async def get_delivery(delivery_id: IdPath, principal: NotifyReader, session: SessionDep) -> DeliveryOut:
    row = await service.get_delivery(session, delivery_id, own_unit(principal))
    return (await service.deliveries_out(session, [row]))[0]


@router.post(
    "/deliveries/{delivery_id}/resend",
    response_model=DeliveryOut,
    summary="Send a failed or delivered delivery again (same webhook-id)",
    responses=errors(NotFound, DeliveryPending),
)
async def resend(delivery_id: IdPath, _: NotifyManager, session: SessionDep) -> DeliveryOut:
    delivery, event = await service.get_delivery(session, delivery_id, None)
    await service.resend(session, delivery, utcnow())
    return (await service.deliveries_out(session, [(delivery, event)]))[0]
