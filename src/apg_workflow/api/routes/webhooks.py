"""``/webhooks``: the caller's tenant's webhook subscriptions (the URLs its events are POSTed to,
signed per Standard Webhooks), their delivery log, and redelivery."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.runtime.webhooks import EVENTS, SYNONYMS
from apg_workflow.services import webhooks as service
from apg_workflow.store.webhooks import AttemptRecord, DeliveryRecord

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_EVENTS_HELP = (
    f"Event names ({', '.join(EVENTS)}; {', '.join(SYNONYMS)} are accepted for the execution events), "
    "a family such as `task.*`, or `*` for every event."
)
Url = Annotated[str, Field(min_length=1, max_length=service.MAX_URL, description="An http(s) URL.")]
Events = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)
]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such webhook in the caller's tenant"}}


class WebhookCreate(BaseModel):
    url: Url
    events: Events = Field(default_factory=lambda: ["*"], description=_EVENTS_HELP)
    description: str | None = Field(None, max_length=500)
    enabled: bool = True


class WebhookUpdate(BaseModel):
    url: Url | None = None
    events: Events | None = Field(None, description=_EVENTS_HELP)
    description: str | None = Field(None, max_length=500, description="An empty string clears it.")
    enabled: bool | None = Field(None, description="Enabling a disabled webhook clears its failure count.")


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str | None = None
    events: list[str]
    enabled: bool
    consecutive_failures: int = Field(description="Deliveries given up on in a row; reset by a success.")
    disabled_at: datetime | None = Field(None, description="When persistent failure disabled it.")
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (`whsec_…`) for verifying deliveries. Shown only in this answer."
    )


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    message_id: str = Field(description="The `webhook-id` header, the same on every try of this event.")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_latency_ms: int | None = None
    last_response: str | None = Field(None, description="The first KiB of the last answer.")
    last_error: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = None
    latency_ms: int | None = None
    response: str | None = None
    error: str | None = None


class DeliveryDetail(DeliveryOut):
    payload: Any = Field(description="The event's `data`.")
    occurred_at: datetime
    attempt_log: list[AttemptOut]


def webhook_out(subscription: service.Subscription) -> WebhookOut:
    return WebhookOut(
        id=subscription.id,
        url=subscription.url,
        description=subscription.description,
        events=list(subscription.events),
        enabled=subscription.enabled,
        consecutive_failures=subscription.consecutive_failures,
        disabled_at=subscription.disabled_at,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )


def delivery_out(delivery: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut(**_delivery_fields(delivery))


def _delivery_fields(delivery: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.subscription_id,
        "message_id": delivery.message_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.due_at if delivery.status == "pending" else None,
        "last_attempt_at": delivery.last_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_latency_ms": delivery.last_latency_ms,
        "last_response": delivery.last_response,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
    }


def _attempt(attempt: AttemptRecord) -> AttemptOut:
    return AttemptOut(
        attempt=attempt.attempt,
        at=attempt.at,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        response=attempt.response,
        error=attempt.error,
    )


@router.get("", response_model=PageOf[WebhookOut], summary="List webhook subscriptions")
async def list_webhooks(rt: RuntimeDep, limit: Limit = 50, cursor: Cursor = None) -> PageOf[WebhookOut]:
    return page_of(await service.list_subscriptions(rt, limit=limit, cursor=cursor), webhook_out)


@router.post(
    "",
    response_model=WebhookCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a URL to events (the answer carries the signing secret, once)",
    responses={400: {"description": "The URL is refused (scheme, SSRF guard) or an event is unknown"}},
)
async def create_webhook(
    body: WebhookCreate, request: Request, response: Response, rt: RuntimeDep, caller: CallerDep
) -> WebhookCreated:
    created = await service.create_subscription(
        rt,
        url=body.url,
        events=body.events,
        description=body.description,
        enabled=body.enabled,
        actor=caller.username,
    )
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{created.subscription.id}"
    return WebhookCreated(**webhook_out(created.subscription).model_dump(), secret=created.secret)


@router.get(
    "/{webhook_id}", response_model=WebhookOut, summary="Get a webhook subscription", responses=_NOT_FOUND
)
async def get_webhook(webhook_id: str, rt: RuntimeDep) -> WebhookOut:
    return webhook_out(await service.get_subscription(rt, webhook_id))


@router.patch(
    "/{webhook_id}", response_model=WebhookOut, summary="Change a webhook subscription", responses=_NOT_FOUND
)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, rt: RuntimeDep, caller: CallerDep
) -> WebhookOut:
    changes = service.SubscriptionChanges(
        url=body.url,
        events=tuple(body.events) if body.events is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    return webhook_out(await service.update_subscription(rt, webhook_id, changes, actor=caller.username))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook subscription and its delivery log",
    responses=_NOT_FOUND,
)
async def delete_webhook(webhook_id: str, rt: RuntimeDep, caller: CallerDep) -> None:
    await service.delete_subscription(rt, webhook_id, actor=caller.username)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=PageOf[DeliveryOut],
    summary="A webhook's deliveries, newest first",
    responses=_NOT_FOUND,
)
async def list_deliveries(
    webhook_id: str,
    rt: RuntimeDep,
    delivery_status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(alias="status")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOf[DeliveryOut]:
    page = await service.list_deliveries(rt, webhook_id, status=delivery_status, limit=limit, cursor=cursor)
    return page_of(page, delivery_out)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="A delivery with its payload and every attempt",
    responses=_NOT_FOUND,
)
async def get_delivery(webhook_id: str, delivery_id: str, rt: RuntimeDep) -> DeliveryDetail:
    delivery, attempts = await service.get_delivery(rt, webhook_id, delivery_id)
    return DeliveryDetail(
        **_delivery_fields(delivery),
        payload=delivery.payload,
        occurred_at=delivery.occurred_at,
        attempt_log=[_attempt(a) for a in attempts],
    )


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a delivery again now, with the same webhook-id",
    responses={**_NOT_FOUND, 409: {"description": "The webhook is disabled"}},
)
async def redeliver(webhook_id: str, delivery_id: str, rt: RuntimeDep, caller: CallerDep) -> DeliveryOut:
    return delivery_out(await service.redeliver(rt, webhook_id, delivery_id, actor=caller.username))
