"""``/messages``: deliver a message by name (and correlation key) to the execution waiting for it,
or start one with a matching message start event; buffered for a while when nothing waits yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.routes.tasks import Variables
from apg_workflow.services import executions as service

router = APIRouter(prefix="/messages", tags=["messages"])


class MessageRequest(BaseModel):
    name: str = Field(min_length=1, max_length=500, description="The message name the BPMN declares.")
    correlation_key: str | None = Field(
        None, max_length=500, description="Delivered only to a subscription with this key (or without one)."
    )
    variables: Variables = Field(default_factory=dict, description="Set in the receiving execution.")


class MessageOut(BaseModel):
    execution_id: str | None = Field(description="The execution that received it (or was started by it).")
    buffered: bool = Field(
        description="Nothing waited: the message is kept until one subscribes or it expires."
    )


@router.post("", response_model=MessageOut, summary="Correlate a message")
async def correlate(
    body: MessageRequest,
    rt: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="A retry with the same key is answered as the first call."),
    ] = None,
) -> MessageOut:
    receiver = await service.correlate(
        rt,
        body.name,
        correlation_key=body.correlation_key,
        variables=body.variables,
        request_id=idempotency_key,
    )
    return MessageOut(execution_id=receiver, buffered=receiver is None)
