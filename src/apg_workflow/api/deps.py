"""What handlers depend on: the caller (bearer JWT or API key) and the runtime scoped to the
caller's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from apg_workflow.runtime.context import Runtime
from apg_workflow.security.identity import AuthenticationError, Principal
from apg_workflow.services import auth

_bearer = HTTPBearer(
    auto_error=False, description="An access token from POST /api/v1/auth/login, or an API key"
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (apg_…)")


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of a request."""

    user_id: str
    username: str
    tenant_id: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(
            principal.user_id, principal.username, principal.tenant_id, principal.roles, principal.groups
        )


def app_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def credential_caller(rt: Runtime, credential: str) -> Caller:
    return Caller.of(await auth.authenticate(rt, credential))


async def current_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    credential = api_key or (bearer.credentials if bearer is not None else None)
    if not credential:
        raise AuthenticationError(
            "authentication required: send 'Authorization: Bearer <token>' (POST /api/v1/auth/login) "
            "or an 'X-API-Key' header"
        )
    caller = await credential_caller(app_runtime(request), credential)
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def tenant_runtime(request: Request, caller: CallerDep) -> Runtime:
    return app_runtime(request).for_tenant(caller.tenant_id)


RuntimeDep = Annotated[Runtime, Depends(tenant_runtime)]
AppRuntimeDep = Annotated[Runtime, Depends(app_runtime)]

__all__ = [
    "AppRuntimeDep",
    "Caller",
    "CallerDep",
    "RuntimeDep",
    "app_runtime",
    "credential_caller",
    "current_caller",
]
