"""``/users``: the users of the caller's tenant, and (administrators only) creating one. Who the
caller is: ``GET /auth/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from apg_workflow.api.deps import Caller, CallerDep, RuntimeDep
from apg_workflow.api.pagination import Cursor, Limit, PageOf, page_of
from apg_workflow.api.problems import ProblemError
from apg_workflow.api.routes import auth as auth_routes
from apg_workflow.services import auth
from apg_workflow.store.identity import UserRecord

router = APIRouter(prefix="/users", tags=["users"])

Role = Literal["admin", "developer", "operator", "viewer"]
GroupName = Annotated[str, Field(min_length=1, max_length=100)]


def require_admin(caller: CallerDep) -> Caller:
    """The caller, when it has the admin role; a 403 problem otherwise."""
    if "admin" not in caller.roles:
        raise ProblemError(403, "forbidden", f"'{caller.username}' lacks the admin role this needs")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


class UserOut(BaseModel):
    id: str
    username: str
    tenant_id: str
    roles: list[str]
    groups: list[str]
    active: bool
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=150, pattern=r"^\S(.*\S)?$")
    password: str = Field(min_length=8, max_length=1000)
    roles: list[Role] = Field(default_factory=lambda: ["developer"], max_length=4)
    groups: list[GroupName] = Field(default_factory=list, max_length=100)


def user_out(user: UserRecord) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        tenant_id=user.tenant_id,
        roles=list(user.roles),
        groups=list(user.groups),
        active=user.active,
        created_at=user.created_at,
    )


@router.get("", response_model=PageOf[UserOut], summary="The users of the caller's tenant, by username")
async def list_users(rt: RuntimeDep, limit: Limit = 50, cursor: Cursor = None) -> PageOf[UserOut]:
    return page_of(await auth.list_users(rt, limit=limit, cursor=cursor), user_out)


router.add_api_route(
    "/me", auth_routes.me, response_model=auth_routes.Me, summary="Who the caller is (as GET /auth/me)"
)


@router.get(
    "/{user_id}", response_model=UserOut, summary="A user of the caller's tenant", responses={404: {}}
)
async def get_user(user_id: str, rt: RuntimeDep) -> UserOut:
    return user_out(await auth.get_user(rt, user_id))


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user in the caller's tenant (admin role; 409 when the username is taken)",
    responses={403: {}, 409: {}, 422: {}},
)
async def create_user(
    body: UserCreate, rt: RuntimeDep, admin: AdminDep, request: Request, response: Response
) -> UserOut:
    user = await auth.create_user(
        rt,
        body.username,
        body.password,
        tenant_id=admin.tenant_id,
        roles=tuple(dict.fromkeys(body.roles)),
        groups=tuple(dict.fromkeys(body.groups)),
        actor=admin.username,
    )
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{user.id}"
    return user_out(user)
