"""Request and response models of the integrations API (the OpenAPI source)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.identity.responses import TokenOut


class IntegrationIn(BaseModel):
    """Body of a new integration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9 _.-]+$")


class KillSwitchIn(BaseModel):
    """Body of the kill switch: off stops deliveries and refuses the tokens at once."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str = Field(default="", max_length=300)


class IntegrationOut(BaseModel):
    """One integration and its kill-switch state."""

    id: str
    name: str
    enabled: bool
    disabled_at: str | None
    disabled_by: str | None
    disabled_reason: str | None
    created_by: str
    created_at: str
    tokens: int
    endpoints: int


class IntegrationList(BaseModel):
    """Every integration of the tenant."""

    items: list[IntegrationOut]


class IntegrationTokenIn(BaseModel):
    """Body of a new token of an integration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    scopes: list[str] = Field(min_length=1, max_length=64)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    rate_limit_per_minute: int = Field(default=120, ge=1, le=100_000)


class TokenList(BaseModel):
    """Tokens of an integration (never the secrets)."""

    items: list[TokenOut]


class EndpointIn(BaseModel):
    """Body of a new webhook endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=500)
    event_types: list[str] = Field(min_length=1, max_length=32)


class EndpointOut(BaseModel):
    """A webhook endpoint (`secret` only in the answer that created or rotated it)."""

    id: str
    integration_id: str
    url: str
    event_types: list[str]
    enabled: bool
    secrets_in_use: int
    created_by: str
    created_at: str
    rotated_at: str | None
    secret: str | None = None


class EndpointList(BaseModel):
    """Webhook endpoints of an integration."""

    items: list[EndpointOut]


class EnabledIn(BaseModel):
    """Body of an endpoint enable/disable."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool


class AttemptOut(BaseModel):
    """One HTTP attempt of a delivery."""

    attempt: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    """One business event for one endpoint, with its delivery log."""

    id: int
    endpoint_id: str
    event_type: str
    message_id: str
    state: Literal["pending", "sent", "dead"]
    attempts: int
    next_attempt_at: str
    last_status: int | None
    last_error: str | None
    replays: int
    created_at: str
    sent_at: str | None
    body: dict[str, Any]
    log: list[AttemptOut]


class DeliveryPage(BaseModel):
    """One page of deliveries, newest first."""

    items: list[DeliveryOut]
    page: int
    page_size: int
    total: int
    pages: int


class EventTypesOut(BaseModel):
    """The business events an endpoint can subscribe to."""

    items: list[str]
