"""Alert channels per tenant (FR-501): signed webhook, e-mail or log, each for some severities.

Validated before anything is written: an unknown kind is UNKNOWN_CHANNEL, a webhook URL
outside the configured allow list (`CFPOS_ALERT_WEBHOOK_ALLOWLIST`, URL prefixes) is
WEBHOOK_URL_NOT_ALLOWED. A webhook channel gets a fresh signing secret, shown once.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field

from hub.alerting.models import AlertChannel
from hub.alerting.store import SEVERITIES
from hub.core.db import tenant_tx
from hub.governance import audit
from posdomain.errors import HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Principal
from posdomain.webhooks import new_secret

KINDS = ("webhook", "email", "log")
_EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,190}$")


class ChannelIn(BaseModel):
    """Body of a new alert channel."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9 _.-]+$")
    kind: str = Field(min_length=1, max_length=20)
    target: str = Field(default="", max_length=500)
    severities: list[str] = Field(min_length=1, max_length=3)


def url_allowed(url: str, allowlist: list[str]) -> bool:
    """True if an http(s) URL starts with one of the allowed prefixes."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return any(url.startswith(prefix) for prefix in allowlist if prefix)


def validate(body: ChannelIn, allowlist: list[str]) -> None:
    """Refuse an unknown kind, severity, webhook URL or e-mail address (nothing written)."""
    if body.kind not in KINDS:
        raise ValidationError(
            f"unknown channel kind {body.kind!r}; use one of {list(KINDS)}",
            HubReason.UNKNOWN_CHANNEL,
        )
    unknown = sorted(set(body.severities) - set(SEVERITIES))
    if unknown:
        raise ValidationError(f"unknown severities {unknown}", Reason.VALIDATION_FAILED)
    if body.kind == "webhook" and not url_allowed(body.target, allowlist):
        raise ValidationError(
            "webhook URL is not in the allowed list", HubReason.WEBHOOK_URL_NOT_ALLOWED
        )
    if body.kind == "email" and not _EMAIL.match(body.target):
        raise ValidationError("target must be one e-mail address", Reason.VALIDATION_FAILED)


def channel_dict(ch: AlertChannel, secret: str | None = None) -> dict[str, Any]:
    """JSON form of a channel (the secret only when just created)."""
    out = {
        "id": ch.id,
        "name": ch.name,
        "kind": ch.kind,
        "target": ch.target,
        "severities": ch.severities,
        "enabled": bool(ch.enabled),
        "created_by": ch.created_by,
        "created_at": ch.created_at.isoformat(),
    }
    if secret is not None:
        out["secret"] = secret
    return out


def create(
    principal: Principal, tenant_id: str, body: ChannelIn, allowlist: list[str]
) -> dict[str, Any]:
    """Create a channel (audited); a webhook's signing secret is returned this once."""
    validate(body, allowlist)
    secret = new_secret() if body.kind == "webhook" else None
    with tenant_tx(tenant_id):
        if AlertChannel.get_or_none(
            AlertChannel.tenant_id == tenant_id, AlertChannel.name == body.name
        ):
            raise ValidationError(f"a channel named {body.name!r} exists", Reason.DUPLICATE)
        ch = AlertChannel.create(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            name=body.name,
            kind=body.kind,
            target=body.target,
            secret=secret,
            severities=sorted(set(body.severities), key=SEVERITIES.index),
            created_by=principal.actor,
        )
        details = {
            "name": ch.name,
            "kind": ch.kind,
            "target": ch.target,
            "severities": ch.severities,
        }
        audit.record(principal, "alert.channel_created", f"alert_channel:{ch.id}", details=details)
    return channel_dict(ch, secret)


def list_channels(tenant_id: str) -> list[dict[str, Any]]:
    """Every channel of the tenant."""
    with tenant_tx(tenant_id):
        rows = AlertChannel.select().where(AlertChannel.tenant_id == tenant_id)
        return [channel_dict(c) for c in rows.order_by(AlertChannel.name)]


def set_enabled(
    principal: Principal, tenant_id: str, channel_id: str, enabled: bool
) -> dict[str, Any]:
    """Enable or disable a channel (audited)."""
    with tenant_tx(tenant_id):
        ch = AlertChannel.get_or_none(
            AlertChannel.id == channel_id, AlertChannel.tenant_id == tenant_id
        )
        if ch is None:
            raise NotFound("no such channel", HubReason.UNKNOWN_CHANNEL)
        ch.enabled = enabled
        ch.save()
        details = {"name": ch.name, "enabled": enabled}
        audit.record(principal, "alert.channel_changed", f"alert_channel:{ch.id}", details=details)
        return channel_dict(ch)
