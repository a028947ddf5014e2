"""Wire messages of PROTOCOL.md as pydantic models: they validate simple requests and give
the OpenAPI document its shapes. Push is parsed by hand (see `routes_sync`), because one bad
op must be answered on its own instead of failing the whole request; its model here only
documents it.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case reason, e.g. invalid_payload")
    message: str = Field(description="for people")


class ErrorBody(BaseModel):
    error: ErrorDetail


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    device_id: str = Field(min_length=1, max_length=128)


class User(BaseModel):
    id: str
    username: str
    display_name: str
    role: Literal["worker", "dispatcher", "supervisor", "admin"]
    street_code: Optional[str] = None
    grid_codes: list[str] = []
    on_duty: Optional[bool] = None


class LoginResponse(BaseModel):
    token: str = Field(description="send as Authorization: Bearer <token>")
    user: User


class DutyRequest(BaseModel):
    on_duty: bool


class DutyResponse(BaseModel):
    on_duty: bool


class Op(BaseModel):
    op_id: str = Field(description="UUID made by the sender")
    type: str = Field(description="task.create, task.assign, ...")
    task_id: str = Field(description="UUID of the task")
    at: str = Field(description="when the user acted, ISO 8601 with a zone (device clock)")
    payload: dict[str, Any] = Field(default_factory=dict)
    base_version: Optional[int] = Field(None, description="refuse an office edit if moved on")


class PushRequest(BaseModel):
    device_id: str = Field(min_length=1, max_length=128)
    ops: list[Op] = Field(max_length=500)


class OpResult(BaseModel):
    op_id: Optional[str]
    status: Literal["applied", "duplicate", "rejected", "retry"]
    code: Optional[str] = None
    message: Optional[str] = None
    task: Optional[dict[str, Any]] = None
    missing: Optional[list[str]] = None


class PushResponse(BaseModel):
    results: list[OpResult]


class Change(BaseModel):
    entity: str = Field(description="task, user, grid or twin_feature")
    id: str
    op: Literal["upsert", "remove"]
    data: Optional[dict[str, Any]] = None


class ChangesResponse(BaseModel):
    changes: list[Change]
    cursor: str = Field(description="opaque; pass as since= to read on")
    has_more: bool


class TwinFeaturesRequest(BaseModel):
    layer: Literal["components", "pipelines", "areas"]
    features: list[dict[str, Any]] = Field(max_length=10000)


class TwinDeleteRequest(BaseModel):
    layer: Literal["components", "pipelines", "areas"]
    ids: list[str] = Field(max_length=10000)


class RevokeRequest(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    device_id: Optional[str] = Field(None, max_length=128)
