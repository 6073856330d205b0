"""``/signals``: broadcast a signal to every execution of the tenant waiting for it, and start the
workflows with a matching signal start event."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from apg_workflow.api.deps import RuntimeDep
from apg_workflow.api.routes.tasks import Variables
from apg_workflow.services import executions as service

router = APIRouter(prefix="/signals", tags=["signals"])


class SignalRequest(BaseModel):
    name: str = Field(min_length=1, max_length=500, description="The signal name the BPMN declares.")
    variables: Variables = Field(default_factory=dict, description="Set in every receiving execution.")


class SignalOut(BaseModel):
    delivered: int = Field(description="How many executions received it or were started by it.")


@router.post("", response_model=SignalOut, summary="Broadcast a signal")
async def broadcast(body: SignalRequest, rt: RuntimeDep) -> SignalOut:
    return SignalOut(delivered=await service.broadcast(rt, body.name, variables=body.variables))
