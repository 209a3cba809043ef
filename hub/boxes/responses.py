"""Response models of box enrolment and commissioning (OpenAPI, hub.core.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from hub.sales.responses import BoxOut


class CodeOut(BaseModel):
    """An enrolment code's public fields (never the code)."""

    id: str
    branch_id: str
    till_name: str
    replaces_box_id: str | None
    created_by: str
    created_at: str
    expires_at: str
    used_at: str | None
    used_box_id: str | None


class NewCodeOut(CodeOut):
    """A new code, shown in this answer only."""

    code: str


class BoxBriefOut(BaseModel):
    """A box in the enrolment overview."""

    box_id: str
    branch_id: str
    name: str
    status: str


class EnrolmentOverviewOut(BaseModel):
    """Open codes and boxes of the caller's branches."""

    codes: list[CodeOut]
    boxes: list[BoxBriefOut]


class MqttLoginOut(BaseModel):
    """The new box's broker login (password returned once)."""

    host: str
    port: int
    username: str
    password: str
    tls: bool = False
    ca_pem: str | None = None  # PEM of the CA that signed the broker's certificate


class EnrolOut(BaseModel):
    """A new box identity, its MQTT login and its initial config."""

    box_id: str
    tenant_id: str
    branch_id: str
    till_name: str
    replaces_box_id: str | None
    mqtt: MqttLoginOut
    config: dict[str, Any]
    commissioning_url: str
    commissioning_auth: str
    down_published: Any = None


class ReportOut(BaseModel):
    """A stored commissioning report."""

    id: Any
    box_id: str
    ok: bool
    received_at: str
    report: dict[str, Any]


class BoxDetailOut(BoxOut):
    """One box: identity, status, replacement links, latest commissioning reports."""

    replaced_by: str | None
    accept_late_until: str | None
    replaces: str | None
    reports: list[ReportOut]
