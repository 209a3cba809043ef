"""Box enrolment (FR-002, NFR-005): one-time codes, new box identities, box replacement.

A code is 12 characters from an alphabet without look-alikes (no I/L/O/U/0/1), shown once
as `ABCD-EFGH-JKMN`; only its SHA-256 is stored. It expires (default 60 min, max 24 h), is
single use, and every create / use / failed use is audited. The unauthenticated enrol call
is rate limited per client address in the database (shared by every gunicorn worker).

Replacement: a code may name the dead box it replaces. Enrolling with it creates a NEW box
id (ids are never reused, so the new box's event sequence starts at 1 without colliding with
the old one) and marks the old box `replaced`. The old box's events that arrive late are
still accepted for `LATE_EVENT_GRACE` (its MQTT login stays in the broker files for as long)
so a sale rung just before the swap is never lost; after that they are quarantined.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.boxes import broker_acl
from hub.boxes.models import BoxCredential, BoxReplacement, EnrolmentCode, EnrolmentFailure
from hub.core.db import db, is_postgres, platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.identity.models import Box, Branch
from hub.identity.scope import check_branch
from posdomain.audit_chain import Severity
from posdomain.errors import (
    Conflict,
    Gone,
    NotFound,
    PosError,
    Reason,
    TooManyRequests,
    ValidationError,
)
from posdomain.permissions import Action, Principal, Scope, authorize

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
DEFAULT_EXPIRY_MINUTES, MAX_EXPIRY_MINUTES = 60, 1440
LATE_EVENT_GRACE = timedelta(days=14)
MAX_FAILURES, FAILURE_WINDOW = 10, timedelta(minutes=15)
ASK_FOR_NEW = "ask the head office (or your field-tech lead) for a new enrolment code"


@dataclass(frozen=True)
class CodeRequest:
    """What the portal/API asks for when creating a code."""

    branch_id: str
    till_name: str | None = None
    expires_in_minutes: int = DEFAULT_EXPIRY_MINUTES
    replaces_box_id: str | None = None


@dataclass(frozen=True)
class Endpoints:
    """Where a new box reaches the hub and the broker (goes into its initial config)."""

    hub_url: str
    mqtt_host: str
    mqtt_port: int
    mqtt_tls: bool = False  # the broker's public URL is mqtts://
    mqtt_ca_pem: str | None = None  # the CA the box verifies the broker with (written at enrol)


def normalise_code(code: str) -> str:
    """Upper case without dashes/spaces; common look-alikes mapped (O→0 is not in the set)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_digest(code: str) -> str:
    """SHA-256 hex of the normalised code (the only form stored)."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    """A fresh code formatted in groups of four for typing."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _branch_for(principal: Principal, branch_id: str, assigned: bool) -> Branch:
    # the one resolver: a foreign and a made-up branch answer the same 403 (P0 item 3)
    check_branch(principal, branch_id, assigned=assigned)
    with platform_tx():
        branch: Branch = Branch.get_by_id(branch_id)
    return branch


def _replaced_box(box_id: str, branch_id: str) -> Box:
    old = Box.get_or_none(Box.box_id == box_id)
    if old is None:
        raise NotFound(f"no box {box_id} in your tenant", Reason.UNKNOWN_BOX)
    if old.status != "active":
        raise Conflict(f"box {box_id} is already {old.status}", Reason.CONFLICT)
    if old.branch_id != branch_id:
        raise ValidationError(
            f"box {box_id} belongs to branch {old.branch_id}, not {branch_id}",
            Reason.BRANCH_MISMATCH,
        )
    return old


def create_code(
    principal: Principal, req: CodeRequest, now: datetime | None = None
) -> dict[str, Any]:
    """Create an enrolment code for a branch (APP_OWNER P, TENANT_OWNER T, FIELD_TECH B)."""
    scope = authorize(principal, Action.BOX_ENROL, branch_id=req.branch_id)
    if not 1 <= req.expires_in_minutes <= MAX_EXPIRY_MINUTES:
        raise ValidationError(
            f"expires_in_minutes must be 1..{MAX_EXPIRY_MINUTES}", Reason.VALIDATION_FAILED
        )
    branch = _branch_for(principal, req.branch_id, assigned=scope is Scope.BRANCH)
    now = now or utcnow()
    code = new_code()
    with tenant_tx(branch.tenant_id):
        till = req.till_name
        if req.replaces_box_id:
            till = till or _replaced_box(req.replaces_box_id, branch.id).name
        row = EnrolmentCode.create(
            id=uuid.uuid4().hex,
            tenant_id=branch.tenant_id,
            branch_id=branch.id,
            till_name=till or "Till",
            code_hash=code_digest(code),
            replaces_box_id=req.replaces_box_id,
            created_by=principal.actor,
            created_at=now,
            expires_at=now + timedelta(minutes=req.expires_in_minutes),
        )
        out = code_json(row)
        audit.append(
            branch.tenant_id,
            principal.actor,
            "enrolment.code_created",
            f"branch:{branch.id}",
            Severity.INFO,
            {k: out[k] for k in ("id", "branch_id", "till_name", "expires_at", "replaces_box_id")},
        )
    return {**out, "code": code}


def code_json(row: EnrolmentCode) -> dict[str, Any]:
    """A code's public fields (never the code or its hash)."""
    return {
        "id": row.id,
        "branch_id": row.branch_id,
        "till_name": row.till_name,
        "replaces_box_id": row.replaces_box_id,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "used_at": row.used_at.isoformat() if row.used_at else None,
        "used_box_id": row.used_box_id,
    }


def _rate_limited(client_ip: str, now: datetime) -> bool:
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"enrol-ip:{client_ip}",))
    since = now - FAILURE_WINDOW
    EnrolmentFailure.delete().where(
        EnrolmentFailure.client_ip == client_ip, EnrolmentFailure.failed_at < since
    ).execute()
    recent = EnrolmentFailure.select().where(
        EnrolmentFailure.client_ip == client_ip, EnrolmentFailure.failed_at >= since
    )
    return int(recent.count()) >= MAX_FAILURES


def record_failure(
    client_ip: str, now: datetime, chain: str, action: str, details: dict[str, Any]
) -> None:
    """Count a failed attempt against the address and audit it (caller's platform tx)."""
    EnrolmentFailure.create(client_ip=client_ip, failed_at=now)
    audit.append(chain, f"ip:{client_ip[:64]}", action, "enrolment", Severity.WARN, details)


def check_rate(client_ip: str, now: datetime) -> None:
    """Raise 429 ENROLMENT_RATE_LIMITED when the address failed too often (caller's tx)."""
    if _rate_limited(client_ip, now):
        raise TooManyRequests(
            "too many failed attempts from this address; wait 15 minutes, then retry",
            Reason.ENROLMENT_RATE_LIMITED,
            {"retry_after_seconds": int(FAILURE_WINDOW.total_seconds())},
        )


def _usable_code(
    code: str, client_ip: str, now: datetime
) -> tuple[EnrolmentCode | None, PosError | None]:
    row = EnrolmentCode.get_or_none(EnrolmentCode.code_hash == code_digest(code))
    error: PosError | None = None
    if row is None:
        error = NotFound(
            f"unknown enrolment code: check the typing or {ASK_FOR_NEW}", Reason.ENROLMENT_UNKNOWN
        )
    elif row.used_at is not None:
        error = Conflict(
            f"this enrolment code was already used; {ASK_FOR_NEW}", Reason.ENROLMENT_USED
        )
    elif row.expires_at <= now:
        error = Gone(f"this enrolment code has expired; {ASK_FOR_NEW}", Reason.ENROLMENT_EXPIRED)
    if error is not None:
        chain = row.tenant_id if row is not None else audit.PLATFORM_CHAIN
        details = {"reason": str(error.reason), "code_id": row.id if row else None}
        record_failure(client_ip, now, chain, "enrolment.failed", details)
    return row, error


def _new_box_id() -> str:
    while True:
        box_id = f"box-{secrets.token_hex(6)}"
        if Box.get_or_none(Box.box_id == box_id) is None:
            return box_id


def _take_over(code: EnrolmentCode, new_box_id: str, now: datetime) -> None:
    old_id = str(code.replaces_box_id)
    Box.update(status="replaced").where(Box.box_id == old_id).execute()
    BoxReplacement.create(
        old_box_id=old_id,
        tenant_id=code.tenant_id,
        new_box_id=new_box_id,
        replaced_at=now,
        accept_late_until=now + LATE_EVENT_GRACE,
        replaced_by=f"enrolment:{code.id}",
    )
    audit.append(
        code.tenant_id,
        f"box:{new_box_id}",
        "box.replaced",
        f"box:{old_id}",
        Severity.WARN,
        {
            "branch_id": code.branch_id,
            "new_box_id": new_box_id,
            "accept_late_until": now + LATE_EVENT_GRACE,
        },
    )


def _create_box(
    code: EnrolmentCode, password_hash: str, hardware: dict[str, Any], now: datetime
) -> Box:
    claimed = (
        EnrolmentCode.update(used_at=now)
        .where(EnrolmentCode.id == code.id, EnrolmentCode.used_at.is_null())
        .execute()
    )
    if claimed != 1:  # a concurrent enrol won the race
        raise Conflict(
            f"this enrolment code was already used; {ASK_FOR_NEW}", Reason.ENROLMENT_USED
        )
    box_id = _new_box_id()
    if code.replaces_box_id:
        old = Box.get_or_none(Box.box_id == code.replaces_box_id)
        if old is None or old.status != "active":
            raise Conflict(
                f"box {code.replaces_box_id} was already replaced; {ASK_FOR_NEW}", Reason.CONFLICT
            )
    box = Box.create(
        box_id=box_id,
        tenant_id=code.tenant_id,
        branch_id=code.branch_id,
        name=code.till_name,
        created_at=now,
    )
    BoxCredential.create(
        box_id=box_id,
        tenant_id=code.tenant_id,
        mqtt_username=box_id,
        password_hash=password_hash,
        created_at=now,
    )
    EnrolmentCode.update(used_box_id=box_id).where(EnrolmentCode.id == code.id).execute()
    if code.replaces_box_id:
        _take_over(code, box_id, now)
    audit.append(
        code.tenant_id,
        f"box:{box_id}",
        "enrolment.used",
        f"box:{box_id}",
        Severity.INFO,
        {
            "branch_id": code.branch_id,
            "code_id": code.id,
            "till_name": code.till_name,
            "hardware": hardware,
        },
    )
    return box


def enrol(
    code: str,
    hardware: dict[str, Any],
    client_ip: str,
    endpoints: Endpoints,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Use a code: a new box identity, its MQTT login (password returned once), its config."""
    now = now or utcnow()
    password = broker_acl.new_password()
    password_hash = broker_acl.hash_password(password)
    box: Box | None = None
    with platform_tx():  # no tenant is known before the code is looked up
        check_rate(client_ip, now)
        row, error = _usable_code(code, client_ip, now)
        if row is not None and error is None:
            box = _create_box(row, password_hash, hardware, now)
    if error is not None:  # the failure and its audit entry are committed first
        raise error
    assert row is not None
    assert box is not None
    return enrolment_result(box, row, password, endpoints)


def enrolment_result(box: Box, code: EnrolmentCode, password: str, ep: Endpoints) -> dict[str, Any]:
    """The enrol response: identity, MQTT login, and the box's initial BoxConfig JSON."""
    with platform_tx():
        branch = Branch.get_by_id(box.branch_id)
    config = {
        "box_id": box.box_id,
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "till_name": box.name,
        "hub_url": ep.hub_url,
        "timezone": branch.timezone or "UTC",
        "mqtt": {
            "host": ep.mqtt_host,
            "port": ep.mqtt_port,
            "username": box.box_id,
            "tls": ep.mqtt_tls,
        },
    }
    return {
        "box_id": box.box_id,
        "tenant_id": box.tenant_id,
        "branch_id": box.branch_id,
        "till_name": box.name,
        "replaces_box_id": code.replaces_box_id,
        "mqtt": {
            "host": ep.mqtt_host,
            "port": ep.mqtt_port,
            "username": box.box_id,
            "password": password,
            "tls": ep.mqtt_tls,
            "ca_pem": ep.mqtt_ca_pem,
        },
        "config": config,
        "commissioning_url": f"{ep.hub_url}/api/v1/boxes/{box.box_id}/commissioning",
        "commissioning_auth": "HTTP basic with the box's MQTT username and password",
    }


def accepts_late_events(box_id: str, now: datetime | None = None) -> bool:
    """True if `box_id` was replaced and is still inside its late-event grace window."""
    with platform_tx():
        row = BoxReplacement.get_or_none(BoxReplacement.old_box_id == box_id)
    return row is not None and row.accept_late_until > (now or utcnow())
