"""Inbound webhooks. ``/inbound-webhooks`` configures them (authenticated); ``POST /hooks/{id}`` is
where a sender delivers: no bearer token, the request's HMAC signature authenticates it, and it
starts an execution of the hook's workflow (the JSON body as variables) or correlates a message."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import AppRuntimeDep, CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.problems import ProblemError
from apg_workflow.services import inbound as service

router = APIRouter(prefix="/hooks", tags=["hooks"])
config_router = APIRouter(prefix="/inbound-webhooks", tags=["inbound-webhooks"])

Scheme = Literal["standard", "github", "stripe", "hmac-header"]
HeaderName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such inbound webhook"}}
# Fields an update may set to null; a null for any other one leaves it unchanged.
_CLEARABLE = frozenset(
    {"workflow_key", "message_name", "correlation_key", "signature_header", "signature_encoding"}
    | {"timestamp_header", "description"}
)
_CORRELATION_HELP = (
    "Where the message's correlation key is in the body: a JSON pointer (`/order/id`) or JMESPath."
)
_SECRET_HELP = (
    "The shared signing secret (for `standard` a `whsec_…` key; for GitHub or Stripe the one they show). "
    "Omitted at creation: a new `whsec_…` one is made. Never shown again after creation."
)


class HookFields(BaseModel):
    action: Literal["start", "correlate"] = "start"
    workflow_key: str | None = Field(None, min_length=1, max_length=255, description="The workflow to start.")
    message_name: str | None = Field(
        None, min_length=1, max_length=500, description="The message to correlate."
    )
    correlation_key: str | None = Field(None, min_length=1, max_length=500, description=_CORRELATION_HELP)
    scheme: Scheme = "standard"
    signature_header: HeaderName | None = Field(
        None, description="hmac-header: the header with the signature."
    )
    signature_encoding: Literal["hex", "base64"] | None = Field(
        None, description="hmac-header: its encoding."
    )
    timestamp_header: HeaderName | None = Field(
        None,
        description='hmac-header: a header with a Unix time; then "{timestamp}.{body}" is what is signed.',
    )
    tolerance_seconds: int = Field(300, ge=1, le=86_400, description="How old a signed timestamp may be.")
    description: str | None = Field(None, max_length=500)
    enabled: bool = True


class HookCreate(HookFields):
    secret: str | None = Field(None, min_length=8, max_length=500, description=_SECRET_HELP)


class HookUpdate(BaseModel):
    """The fields to change; `null` clears an optional one (and leaves a required one as it is)."""

    action: Literal["start", "correlate"] | None = None
    workflow_key: str | None = Field(None, min_length=1, max_length=255)
    message_name: str | None = Field(None, min_length=1, max_length=500)
    correlation_key: str | None = Field(None, min_length=1, max_length=500, description=_CORRELATION_HELP)
    scheme: Scheme | None = None
    signature_header: HeaderName | None = None
    signature_encoding: Literal["hex", "base64"] | None = None
    timestamp_header: HeaderName | None = None
    tolerance_seconds: int | None = Field(None, ge=1, le=86_400)
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = None
    secret: str | None = Field(None, min_length=8, max_length=500, description="A new signing secret.")


class HookOut(HookFields):
    id: str
    url: str = Field(description="Where senders POST: `/api/v1/hooks/{id}`.")
    created_at: datetime
    updated_at: datetime


class HookCreated(HookOut):
    secret: str = Field(description="The signing secret. Shown only in this answer.")


class HookResult(BaseModel):
    action: Literal["start", "correlate"]
    status: Literal["started", "duplicate", "correlated", "buffered"] = Field(
        description="`duplicate`: the sender's delivery id was seen before, nothing new was started."
    )
    execution_id: str | None = None


def hook_out(hook: service.Hook) -> HookOut:
    spec = hook.spec
    return HookOut(
        id=hook.id,
        url=f"/api/v1/hooks/{hook.id}",
        action=spec.action,  # type: ignore[arg-type]
        workflow_key=spec.workflow_key,
        message_name=spec.message_name,
        correlation_key=spec.correlation_key,
        scheme=spec.scheme,  # type: ignore[arg-type]
        signature_header=spec.signature_header,
        signature_encoding=spec.signature_encoding,  # type: ignore[arg-type]
        timestamp_header=spec.timestamp_header,
        tolerance_seconds=spec.tolerance_seconds,
        description=spec.description,
        enabled=spec.enabled,
        created_at=hook.created_at,
        updated_at=hook.updated_at,
    )


# Configuration ------------------------------------------------------------------------------------


@config_router.get("", response_model=PageOf[HookOut], summary="List inbound webhooks")
async def list_hooks(rt: RuntimeDep, limit: Limit = 50, cursor: Cursor = None) -> PageOf[HookOut]:
    return page_of(await service.list_hooks(rt, limit=limit, cursor=cursor), hook_out)


@config_router.post(
    "",
    response_model=HookCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an inbound webhook (the answer carries its secret, once)",
    responses={400: {"description": "The configuration cannot work"}},
)
async def create_hook(
    body: HookCreate, request: Request, response: Response, rt: RuntimeDep, caller: CallerDep
) -> HookCreated:
    spec = service.HookSpec(**body.model_dump(exclude={"secret"}))
    created = await service.create_hook(rt, spec, secret=body.secret, actor=caller.username)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{created.hook.id}"
    return HookCreated(**hook_out(created.hook).model_dump(), secret=created.secret)


@config_router.get(
    "/{hook_id}", response_model=HookOut, summary="Get an inbound webhook", responses=_NOT_FOUND
)
async def get_hook(hook_id: str, rt: RuntimeDep) -> HookOut:
    return hook_out(await service.get_hook(rt, hook_id))


@config_router.patch(
    "/{hook_id}", response_model=HookOut, summary="Change an inbound webhook", responses=_NOT_FOUND
)
async def update_hook(hook_id: str, body: HookUpdate, rt: RuntimeDep, caller: CallerDep) -> HookOut:
    given = body.model_dump(exclude_unset=True, exclude={"secret"})
    changes = {name: value for name, value in given.items() if value is not None or name in _CLEARABLE}
    hook = await service.update_hook(rt, hook_id, changes, secret=body.secret, actor=caller.username)
    return hook_out(hook)


@config_router.delete(
    "/{hook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an inbound webhook",
    responses=_NOT_FOUND,
)
async def delete_hook(hook_id: str, rt: RuntimeDep, caller: CallerDep) -> None:
    await service.delete_hook(rt, hook_id, actor=caller.username)


# Delivery -----------------------------------------------------------------------------------------


@router.post(
    "/{hook_id}",
    response_model=HookResult,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Deliver a webhook (authenticated by its signature, not a token)",
    openapi_extra={
        "requestBody": {"required": False, "content": {"application/json": {"schema": {}}}},
        "security": [],
    },
    responses={
        400: {"description": "The body is not JSON, or lacks the correlation key"},
        401: {"description": "The signature is missing, wrong or too old"},
        404: {"description": "No such (enabled) inbound webhook, or no such workflow"},
    },
)
async def deliver(hook_id: str, request: Request, rt: AppRuntimeDep) -> HookResult:
    try:
        outcome = await service.receive(rt, hook_id, request.headers, await request.body())
    except service.HookUnauthorized as exc:
        raise ProblemError(401, "invalid-signature", exc.message, title="Unauthorized") from None
    return HookResult(action=outcome.action, status=outcome.status, execution_id=outcome.execution_id)  # type: ignore[arg-type]
