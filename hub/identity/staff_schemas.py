"""Request and response bodies of the staff API (the source of truth of their OpenAPI
schemas; tests/hub/test_customers_openapi.py compares hub/openapi.yaml with them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from posdomain.permissions import Role

_NAME = r"^[^\x00-\x1f\x7f]+$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffIn(_In):
    """POST /api/v1/staff: a hub password only for staff who also use the portal."""

    username: str = Field(pattern=r"^[a-z0-9_.-]{3,64}$")
    display_name: str = Field(min_length=1, max_length=80, pattern=_NAME)
    role: Role
    branch_ids: list[str] = Field(default_factory=list, max_length=50)
    password: str | None = Field(default=None, min_length=10, max_length=256)
    pin: str | None = Field(default=None, pattern=r"^\d{4,8}$")


class StaffPatch(_In):
    """PATCH /api/v1/staff/{id}: any of display name, role, branches."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80, pattern=_NAME)
    role: Role | None = None
    branch_ids: list[str] | None = Field(default=None, max_length=50)


class ActiveIn(_In):
    """PUT /api/v1/staff/{id}/active."""

    active: bool


class PinIn(_In):
    """PUT /api/v1/staff/{id}/pin: set a PIN; POST .../pin/reset makes a random one."""

    pin: str = Field(pattern=r"^\d{4,8}$")


class BadgeIn(_In):
    """PUT /api/v1/staff/{id}/badge: the badge barcode as scanned; POST .../badge/generate
    makes one."""

    badge: str = Field(min_length=6, max_length=32)


class StaffOut(BaseModel):
    """A staff member (never a hash or the badge; `pin`/`badge` only in a reset's answer)."""

    id: str
    username: str
    display_name: str
    role: Role
    branch_ids: list[str]
    active: bool
    has_pin: bool
    has_badge: bool
    updated_at: str
    pin: str | None = None
    badge: str | None = None


class StaffPage(BaseModel):
    """One page of staff."""

    items: list[StaffOut]
    page: int
    page_size: int
    total: int
    pages: int


SCHEMAS: tuple[type[BaseModel], ...] = (
    StaffIn,
    StaffPatch,
    ActiveIn,
    PinIn,
    BadgeIn,
    StaffOut,
    StaffPage,
)
