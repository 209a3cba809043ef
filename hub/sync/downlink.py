"""Hub → box master data (retained DownMessages): build every kind's message and publish it.

The version counters live in `hub.governance.versions` (a leaf every area may call);
this module sits on top of the areas whose data it sends down.

Publishing happens after the commit. If the broker is unreachable the change is
still committed; `python -m hub publish-down` republishes the same versions later
(boxes apply a kind only when its version is newer, so republishing is harmless).
"""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hub.catalog.barcode_formats import wire_formats
from hub.catalog.chunks import head_body
from hub.catalog.store import current_version
from hub.core.db import platform_tx, tenant_tx
from hub.core.mqtt import MqttLogin, apply_credentials
from hub.customers import directory
from hub.governance import rule_log
from hub.governance.config import effective, effective_body
from hub.governance.flags import flag_values
from hub.governance.models import ConfigVersion, DownState
from hub.identity.models import Box, Tenant, User
from hub.pricing import policies as pricing_policies
from hub.pricing.policies import policy_key
from hub.releases import offers
from hub.risk.modes import state_for
from hub.sync.refusals import resolutions_body
from hub.sync.resend import resend_body
from posdomain import topics
from posdomain.contract import DOWN_KINDS
from posdomain.envelope import DownMessage, encode, utcnow
from posdomain.obs import log_event
from posdomain.permissions import Role

log = logging.getLogger(__name__)

BOX_ROLES = (Role.BRANCH_MANAGER.value, Role.SUPERVISOR.value, Role.CASHIER.value)
PUBLISH_TIMEOUT_S = 5.0


def _latest_row(tenant_id: str, kind: str) -> ConfigVersion | None:
    row: ConfigVersion | None = (
        ConfigVersion.select()
        .where(
            ConfigVersion.tenant_id == tenant_id,
            ConfigVersion.kind == kind,
            ConfigVersion.branch_id.is_null(),  # branch overrides: config.effective
        )
        .order_by(ConfigVersion.version.desc())
        .first()
    )
    return row


def _latest_body(tenant_id: str, kind: str) -> dict[str, Any]:
    row = _latest_row(tenant_id, kind)
    return dict(row.body) if row else {}


def _approvals(rows: dict[str, ConfigVersion | None]) -> dict[str, Any]:
    """Who proposed and approved each business rule sent (FR-901); a box refuses a rule
    without its approval (posdomain.rule_approvals)."""
    out: dict[str, Any] = {}
    for kind, row in rows.items():
        approval = rule_log.approval_for(row.change_id) if row is not None else None
        if approval is not None:
            out[kind] = approval
    return out


def _staff_body(tenant_id: str, branch_id: str) -> dict[str, Any]:
    users = User.select().where(User.tenant_id == tenant_id, User.role.in_(BOX_ROLES))
    staff = [
        {
            "id": u.id,
            "name": u.display_name,
            "role": u.role,
            "pin_hash": u.pin_hash,
            "active": bool(u.active),
            "branch_ids": u.branch_ids,
            "badge_digest": u.badge_digest,  # sha256 of "<tenant_id>:<badge>" (CONTRACT)
        }
        for u in users.order_by(User.id)
        if u.pin_hash and branch_id in (u.branch_ids or [])
    ]
    return {"staff": staff}


def _risk_body(box: Box) -> dict[str, Any]:
    """The tenant's risk config plus the mode in force for this box (docs/CONTRACT.md)."""
    row = _latest_row(box.tenant_id, "risk")
    body = dict(row.body) if row else {}
    if row is not None:
        body["approvals"] = _approvals({"risk": row})
    body["mode_state"] = state_for(box.tenant_id, [box.branch_id], box.box_id).model_dump()
    return body


def _body(box: Box, kind: str) -> dict[str, Any]:
    tenant_id, branch_id = box.tenant_id, box.branch_id
    if kind == "risk":
        return _risk_body(box)
    if kind == "resend":
        return resend_body(box)
    if kind == "refusals":  # this box's refused events head office resolved
        return resolutions_body(box)
    if kind == "staff":
        return _staff_body(tenant_id, branch_id)
    if kind == "catalog":  # the small head; boxes catch up with BoxRequest (catalog_sync)
        return head_body(current_version(tenant_id))
    if kind == "cards":  # the small head; boxes catch up with BoxRequest(kind="cards")
        return directory.head_body(versions_of(tenant_id).get("cards", 0))
    if kind == "flags":
        return flag_values(tenant_id)
    if kind == "release":  # what to install; the files in chunks on request (release_chunk)
        return offers.down_body(box)
    if kind == "pricing":  # verified before publishing: an unverifiable row is left out
        body = pricing_policies.down_body(tenant_id)
        body["approvals"] = rule_log.policy_approvals(tenant_id, body["policies"])
        return body
    pricing_row = _latest_row(tenant_id, "pricing")
    pricing = dict(pricing_row.body) if pricing_row else {}
    tax_row = effective(tenant_id, "tax", branch_id)
    loyalty_row = _loyalty_row(tenant_id)
    key_id, key = pricing_policies.policy_key(tenant_id)
    till = effective_body(tenant_id, "till", branch_id)
    return {
        **({"till": till} if till else {}),
        "currency": pricing.get("currency"),
        "exponent": pricing.get("exponent"),
        "locale": pricing.get("locale"),
        "branding": _latest_body(tenant_id, "branding"),
        "tax": dict(tax_row.body) if tax_row else {},
        "barcode_formats": wire_formats(tenant_id),
        "policy_key_id": key_id,
        "policy_key": key,
        # the loyalty rules in force with their version (boxes name it in their sale facts)
        "loyalty": (
            {"version": int(loyalty_row.version), "rules": dict(loyalty_row.body)}
            if loyalty_row
            else None
        ),
        "approvals": _approvals({"pricing": pricing_row, "tax": tax_row, "loyalty": loyalty_row}),
    }


def _loyalty_row(tenant_id: str) -> ConfigVersion | None:
    row: ConfigVersion | None = (
        ConfigVersion.select()
        .where(ConfigVersion.tenant_id == tenant_id, ConfigVersion.kind == "loyalty")
        .order_by(ConfigVersion.version.desc())
        .first()
    )
    return row


def versions_of(tenant_id: str) -> dict[str, int]:
    """The tenant's down-message versions by kind (caller's transaction)."""
    return {r.kind: r.version for r in DownState.select().where(DownState.tenant_id == tenant_id)}


def messages_for_box(box: Box) -> list[tuple[str, DownMessage]]:
    """(topic, message) for every down kind that has a version (caller's transaction)."""
    policy_key(box.tenant_id)  # a new key bumps `config` before the versions are read

    versions = versions_of(box.tenant_id)
    versions["catalog"] = current_version(box.tenant_id)  # the catalog's own counter
    out = []
    for kind in DOWN_KINDS:
        if versions.get(kind, 0) < 1:
            continue
        msg = DownMessage(
            kind=kind,
            version=versions[kind],
            tenant_id=box.tenant_id,
            branch_id=box.branch_id,
            issued_at=utcnow(),
            body=_body(box, kind),
        )
        out.append((topics.box_down(box.box_id, kind), msg))
    return out


def tenant_messages(tenant_id: str) -> list[tuple[str, DownMessage]]:
    """Down messages for every active box of a tenant."""
    with tenant_tx(tenant_id):
        boxes = list(Box.select().where(Box.tenant_id == tenant_id, Box.status == "active"))
        return [m for box in boxes for m in messages_for_box(box)]


def publish(
    host: str, port: int, messages: list[tuple[str, DownMessage]], login: MqttLogin | None = None
) -> bool:
    """Publish retained QoS 1 messages; False (logged) if the broker is unreachable."""
    if not messages:
        return True
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    apply_credentials(client, login)
    try:
        client.connect(host, port, keepalive=30)
        client.loop_start()
        infos = [client.publish(t, encode(m), qos=1, retain=True) for t, m in messages]
        for info in infos:
            info.wait_for_publish(timeout=PUBLISH_TIMEOUT_S)
        ok = all(i.is_published() for i in infos)
    except (OSError, RuntimeError, ValueError) as err:
        log_event(
            log,
            "down publish failed; run publish-down later",
            logging.WARNING,
            error=str(err),
            count=len(messages),
        )
        return False
    finally:
        client.loop_stop()
        client.disconnect()
    log_event(log, "down messages published", count=len(messages), ok=ok)
    return ok


def publish_tenant(host: str, port: int, tenant_id: str) -> bool:
    """Publish the current down messages of one tenant's boxes (never raises on broker errors)."""
    return publish(host, port, tenant_messages(tenant_id))


def publish_all(host: str, port: int) -> int:
    """Republish every tenant's down messages; return the number of tenants published."""
    with platform_tx():
        tenant_ids = [t.id for t in Tenant.select(Tenant.id)]
    return sum(1 for t in tenant_ids if publish_tenant(host, port, t))
