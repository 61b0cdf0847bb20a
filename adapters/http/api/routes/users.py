"""Named accounts, for admins: add, list, disable, enable, and personal API tokens (shown once)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from adapters.http.api.deps import Admin, Context, user_store
from adapters.http.api.errors import NotFound, problem_responses
from adapters.http.channels.common import FieldError, PayloadInvalid
from adapters.sql.credentials import USER_NAME, Role
from adapters.sql.users import UnknownUser, User, UserExists

router = APIRouter(prefix="/api/v1/users", tags=["users"], dependencies=[Admin])
UserName = Annotated[str, Path(min_length=1, max_length=40, pattern=USER_NAME.pattern)]
RESPONSES = problem_responses(401, 403, 404)


class UserCreate(BaseModel):
    name: str = Field(max_length=40, pattern=USER_NAME.pattern)
    role: Literal["viewer", "operator", "admin"]
    password: str = Field(min_length=1, max_length=512, repr=False)


class UserPublic(BaseModel):
    name: str
    role: str
    disabled: bool


class TokenCreate(BaseModel):
    label: str = Field(default="", max_length=80)


class TokenCreated(BaseModel):
    token: str = Field(description="Authorization: Bearer <token>. Shown once: only its hash is kept.")


def _public(user: User) -> UserPublic:
    return UserPublic(name=user.name, role=user.role.label, disabled=user.disabled)


@router.post("", status_code=201, response_model=UserPublic, responses=problem_responses(401, 403, 422))
def add_user(body: UserCreate, context: Context) -> UserPublic:
    try:
        return _public(user_store(context).add(body.name, Role.named(body.role), body.password))
    except UserExists as taken:
        raise PayloadInvalid([FieldError("name", str(taken))]) from None
    except ValueError as refused:
        raise PayloadInvalid([FieldError("password", str(refused))]) from None


@router.get("", response_model=list[UserPublic], responses=problem_responses(401, 403))
def list_users(context: Context) -> list[UserPublic]:
    return [_public(user) for user in user_store(context).all()]


@router.post("/{name}/disable", response_model=UserPublic, responses=RESPONSES)
def disable_user(name: UserName, context: Context) -> UserPublic:
    """Their sessions end and their tokens stop working at once."""
    return _set_disabled(context, name, True)


@router.post("/{name}/enable", response_model=UserPublic, responses=RESPONSES)
def enable_user(name: UserName, context: Context) -> UserPublic:
    return _set_disabled(context, name, False)


@router.post("/{name}/tokens", status_code=201, response_model=TokenCreated, responses=RESPONSES)
def issue_token(name: UserName, context: Context, body: TokenCreate | None = None) -> TokenCreated:
    try:
        return TokenCreated(token=user_store(context).issue_token(name, body.label if body else ""))
    except UnknownUser:
        raise NotFound(f"No user {name}.") from None


def _set_disabled(context: Context, name: str, disabled: bool) -> UserPublic:
    store = user_store(context)
    try:
        store.set_disabled(name, disabled)
    except UnknownUser:
        raise NotFound(f"No user {name}.") from None
    user = store.get(name)
    if user is None:
        raise NotFound(f"No user {name}.")
    return _public(user)
