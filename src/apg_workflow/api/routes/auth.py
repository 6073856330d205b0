"""``POST /auth/login`` (username and password → bearer token), ``GET /auth/me``, API keys."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import AppRuntimeDep, CallerDep, RuntimeDep
from apg_workflow.services import auth
from apg_workflow.store.identity import ApiKeyRecord

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1000)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user_id: str
    username: str
    tenant_id: str
    roles: list[str]


class Me(BaseModel):
    user_id: str
    username: str
    tenant_id: str
    roles: list[str]
    groups: list[str]


class ApiKeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="The key itself; shown only in this response.")


def _key(record: ApiKeyRecord) -> ApiKeyOut:
    return ApiKeyOut(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        created_at=record.created_at,
        last_used_at=record.last_used_at,
        revoked_at=record.revoked_at,
    )


@router.post("/login", response_model=TokenResponse, summary="Log in with a username and password")
async def login(body: LoginRequest, rt: AppRuntimeDep) -> TokenResponse:
    token = await auth.login(rt, body.username, body.password)
    p = token.principal
    return TokenResponse(
        access_token=token.access_token,
        expires_in=token.expires_in,
        user_id=p.user_id,
        username=p.username,
        tenant_id=p.tenant_id,
        roles=list(p.roles),
    )


@router.get("/me", response_model=Me, summary="Who the caller is")
async def me(caller: CallerDep) -> Me:
    return Me(
        user_id=caller.user_id,
        username=caller.username,
        tenant_id=caller.tenant_id,
        roles=list(caller.roles),
        groups=list(caller.groups),
    )


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="The caller's API keys")
async def list_keys(rt: RuntimeDep, caller: CallerDep) -> list[ApiKeyOut]:
    return [_key(k) for k in await auth.list_api_keys(rt, caller.user_id)]


@router.post(
    "/api-keys", response_model=NewApiKeyOut, status_code=status.HTTP_201_CREATED, summary="Create an API key"
)
async def create_key(body: ApiKeyRequest, rt: RuntimeDep, caller: CallerDep) -> NewApiKeyOut:
    created = await auth.create_api_key(rt, caller.user_id, body.name)
    return NewApiKeyOut(**_key(created.record).model_dump(), key=created.key)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
async def revoke_key(key_id: str, rt: RuntimeDep) -> None:
    await auth.revoke_api_key(rt, key_id)
