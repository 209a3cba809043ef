"""Enrolled boxes after enrolment: commissioning reports, portal views, broker logins.

Commissioning auth: the box sends its self-test report with HTTP basic auth using its own
MQTT username and password (checked against the stored `$7$` hash). We chose this over a
separate one-time token because the box already holds exactly this secret (0600 file), a
re-run of the self-test after a repair can report again, and there is no second secret to
store, expire or leak. Failures count against the same per-address limit as enrolment.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hub.boxes import broker_acl
from hub.boxes.enrolment import check_rate, code_json, record_failure
from hub.boxes.models import BoxCredential, BoxReplacement, CommissioningReport, EnrolmentCode
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.identity.models import Box
from hub.sync import downlink
from posdomain.audit_chain import Severity
from posdomain.errors import NotFound, Reason, Unauthenticated
from posdomain.permissions import Principal, Scope

MAX_REPORTS_SHOWN = 20


def authenticate_box(box_id: str, username: str, password: str, client_ip: str) -> Box:
    """The box whose MQTT credentials these are (401 BAD_CREDENTIALS otherwise, audited)."""
    now = utcnow()
    box: Box | None = None
    with platform_tx():
        check_rate(client_ip, now)
        cred = BoxCredential.get_or_none(BoxCredential.box_id == box_id)
        ok = (
            cred is not None
            and cred.revoked_at is None
            and cred.mqtt_username == username
            and broker_acl.verify_password(cred.password_hash, password)
        )
        if ok:
            box = Box.get_or_none(Box.box_id == box_id)
        if box is None:
            chain = cred.tenant_id if cred is not None else audit.PLATFORM_CHAIN
            record_failure(client_ip, now, chain, "box.auth_failed", {"box_id": box_id[:64]})
    if box is None:
        raise Unauthenticated(
            "box credentials refused: use the MQTT username/password written at enrolment",
            Reason.BAD_CREDENTIALS,
        )
    return box


def store_report(box: Box, report: dict[str, Any]) -> dict[str, Any]:
    """Keep a commissioning report for the box and audit it (WARN when a step failed)."""
    ok = bool(report.get("ok"))
    failed = [s.get("name") for s in report.get("steps", []) if not s.get("ok")]
    with tenant_tx(box.tenant_id):
        row = CommissioningReport.create(
            id=uuid.uuid4().hex,
            tenant_id=box.tenant_id,
            branch_id=box.branch_id,
            box_id=box.box_id,
            ok=ok,
            report=report,
            received_at=utcnow(),
        )
        audit.append(
            box.tenant_id,
            f"box:{box.box_id}",
            "box.commissioning_report",
            f"box:{box.box_id}",
            Severity.INFO if ok else Severity.WARN,
            {"branch_id": box.branch_id, "ok": ok, "failed_steps": failed, "report_id": row.id},
        )
    return report_json(row)


def report_json(row: CommissioningReport) -> dict[str, Any]:
    """A stored report for the API and portal."""
    return {
        "id": row.id,
        "box_id": row.box_id,
        "ok": bool(row.ok),
        "received_at": row.received_at.isoformat(),
        "report": row.report,
    }


def _visible(principal: Principal, scope: Scope, box: Box | None, box_id: str) -> Box:
    if box is None or (scope is Scope.BRANCH and box.branch_id not in principal.branch_ids):
        raise NotFound(f"no box {box_id}", Reason.NOT_FOUND)
    return box


def box_detail(principal: Principal, tenant_id: str, scope: Scope, box_id: str) -> dict[str, Any]:
    """One box: identity, status, replacement links and its latest commissioning reports."""
    with tenant_tx(tenant_id):
        box = _visible(principal, scope, Box.get_or_none(Box.box_id == box_id), box_id)
        reports = (
            CommissioningReport.select()
            .where(CommissioningReport.box_id == box_id)
            .order_by(CommissioningReport.received_at.desc())
            .limit(MAX_REPORTS_SHOWN)
        )
        replaced = BoxReplacement.get_or_none(BoxReplacement.old_box_id == box_id)
        replaces = BoxReplacement.get_or_none(BoxReplacement.new_box_id == box_id)
        return {
            "box_id": box.box_id,
            "branch_id": box.branch_id,
            "name": box.name,
            "status": box.status,
            "last_seen_at": box.last_seen_at.isoformat() if box.last_seen_at else None,
            "last_contiguous_seq": int(box.last_contiguous_seq),
            "replaced_by": replaced.new_box_id if replaced else None,
            "accept_late_until": replaced.accept_late_until.isoformat() if replaced else None,
            "replaces": replaces.old_box_id if replaces else None,
            "reports": [report_json(r) for r in reports],
        }


def enrolment_overview(
    principal: Principal, tenant_id: str, scope: Scope, now: datetime | None = None
) -> dict[str, Any]:
    """Open codes and boxes of the branches the principal may enrol for (portal page)."""
    now = now or utcnow()
    with tenant_tx(tenant_id):
        codes = EnrolmentCode.select().where(
            EnrolmentCode.tenant_id == tenant_id,
            EnrolmentCode.used_at.is_null(),
            EnrolmentCode.expires_at > now,
        )
        boxes = Box.select().where(Box.tenant_id == tenant_id).order_by(Box.branch_id, Box.box_id)
        if scope is Scope.BRANCH:
            allowed = list(principal.branch_ids)
            codes = codes.where(EnrolmentCode.branch_id.in_(allowed))
            boxes = boxes.where(Box.branch_id.in_(allowed))
        return {
            "codes": [code_json(c) for c in codes.order_by(EnrolmentCode.expires_at)],
            "boxes": [
                {"box_id": b.box_id, "branch_id": b.branch_id, "name": b.name, "status": b.status}
                for b in boxes
            ],
        }


def broker_users(now: datetime | None = None) -> list[broker_acl.MqttUser]:
    """Broker logins of active boxes and of replaced boxes still inside their grace window."""
    now = now or utcnow()
    with platform_tx():
        grace = {
            r.old_box_id
            for r in BoxReplacement.select().where(BoxReplacement.accept_late_until > now)
        }
        status = {b.box_id: b.status for b in Box.select(Box.box_id, Box.status)}
        creds = BoxCredential.select().where(BoxCredential.revoked_at.is_null())
        return [
            broker_acl.MqttUser(c.mqtt_username, c.password_hash, c.box_id)
            for c in creds.order_by(BoxCredential.box_id)
            if status.get(c.box_id) == "active" or c.box_id in grace
        ]


def publish_down_for(box_id: str, host: str, port: int) -> bool:
    """Publish the retained down messages of one (new) box; False if the broker is away."""
    with platform_tx():
        box = Box.get_by_id(box_id)
    with tenant_tx(box.tenant_id):
        messages = downlink.messages_for_box(box)
    return downlink.publish(host, port, messages)
