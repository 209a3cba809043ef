"""Staff-initiated device actions (test page, no-sale drawer open, receipt reprint), audited."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.devices import store
from appliance.devices.hook import kick_drawer
from appliance.devices.receipt_layout import print_settings
from appliance.devices.receipts import enqueue_receipt, enqueue_test_page
from appliance.identity.models import Staff
from appliance.sync import outbox
from posdomain.contract import EventType
from posdomain.errors import PosError, Reason


class DeviceProblem(PosError):
    """A device could not do what was asked right now (503, reason = device code)."""

    status = 503
    default_reason = Reason.DEVICE_UNAVAILABLE


def _reason(code: str) -> Reason:
    """The Reason for a device error code (unknown codes are DEVICE_ERROR)."""
    try:
        return Reason(code)
    except ValueError:
        return Reason.DEVICE_ERROR


def test_print(ctx: BoxContext, staff: Staff) -> dict[str, Any]:
    """Queue a printer test page."""
    job = enqueue_test_page(ctx.config.till_name)
    audit_log.append_now(
        ctx, actor=f"staff:{staff.id}", action="device.test_print", target=f"job:{job['id']}"
    )
    return {"job": _public(job)}


def no_sale_kick(ctx: BoxContext, staff: Staff) -> dict[str, Any]:
    """Open the drawer without a sale (audited); 503 with the device reason if it failed."""
    ref = f"nosale:{uuid.uuid4().hex[:12]}"
    opened_at = now_iso()
    outcome = kick_drawer(ctx, ref, "no_sale")
    with write_txn():  # REP-T-13 on the hub: one row per opening, the failed ones too
        outbox.enqueue(
            ctx,
            EventType.NO_SALE,
            {"no_sale_id": ref, "cashier_id": staff.id, "drawer_ok": bool(outcome["ok"]),
             "opened_at": opened_at},
        )  # fmt: skip
    audit_log.append_now(
        ctx,
        actor=f"staff:{staff.id}",
        action="drawer.no_sale",
        target=ref,
        details={"ok": outcome["ok"], "error": outcome["error"]},
    )
    if not outcome["ok"]:
        raise DeviceProblem("the drawer did not open", _reason(outcome["error"]))
    return {"drawer": outcome}


def reprint(ctx: BoxContext, staff: Staff, sale: dict[str, Any]) -> dict[str, Any]:
    """Queue a COPY of a sale's receipt (audited)."""
    job = enqueue_receipt(
        sale, copy=True, till_name=ctx.config.till_name, settings=print_settings(ctx.config)
    )
    audit_log.append_now(
        ctx,
        actor=f"staff:{staff.id}",
        action="receipt.reprint",
        target=f"sale:{sale['sale_id']}",
        details={"copy_no": job["copy_no"]},
    )
    return {"job": _public(job)}


def sale_devices(sale_id: str) -> dict[str, Any]:
    """What happened to a sale's receipt and drawer kick."""
    return {"receipt": store.jobs_for(sale_id), "drawer": store.drawer_result(sale_id)}


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k != "payload"}


def scan_stream(
    db_path: str | Path, last_id: int | None, max_seconds: float = 300.0, poll: float = 0.2
) -> Iterator[str]:
    """Server-Sent Events of new scans; ends after `max_seconds` (the browser reconnects)."""
    tail = store.ScanTail(db_path)
    try:
        cursor = tail.last_id() if last_id is None else last_id
        yield "retry: 1000\n: connected\n\n"
        started = last_ping = time.monotonic()
        while time.monotonic() - started < max_seconds:
            for scan_id, code in tail.after(cursor):
                cursor = scan_id
                yield f"id: {scan_id}\nevent: scan\ndata: {json.dumps({'code': code})}\n\n"
            if time.monotonic() - last_ping > 15:
                last_ping = time.monotonic()
                yield ": ping\n\n"
            time.sleep(poll)
    finally:
        tail.close()
