"""After a cash sale is committed: queue its receipt and kick the drawer (never raises).

The sale is already durable when this runs, so a printer or drawer problem can only
cost a warning, never the sale: the receipt job is idempotent on (sale_id, copy_no),
and the drawer kick happens now or is reported as failed - it is never queued.

The till's checkout queues the receipt inside the sale's own transaction instead
(`queue_receipt_with_sale`, a savepoint: the job commits with the sale, one durable commit
for both, issue 15) and kicks the drawer after the commit (`kick_after_sale`).
"""

from __future__ import annotations

import logging
from typing import Any

from peewee import PeeweeException

from appliance.core.context import BoxContext
from appliance.devices import store
from appliance.devices.control import KickFailed, request_kick, socket_path
from appliance.devices.receipt_layout import print_settings
from appliance.devices.receipts import enqueue_receipt, enqueue_sale_receipt
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def kick_drawer(ctx: BoxContext, ref: str, reason: str) -> dict[str, Any]:
    """Open the drawer now through the device service; record and return the outcome."""
    try:
        request_kick(socket_path(ctx.config.database_path), reason)
    except KickFailed as err:
        log_event(log, "drawer kick failed", logging.WARNING, ref=ref, code=err.code)
        store.log_drawer(ref, reason, False, err.code)
        return {"ok": False, "error": err.code}
    store.log_drawer(ref, reason, True)
    return {"ok": True, "error": ""}


def queue_receipt_with_sale(ctx: BoxContext, sale: dict[str, Any], sale_json: str) -> str:
    """Queue the sale's receipt inside the sale's write transaction (its own savepoint), laid
    out when it prints (`sale_json`: the payload text stored with the sale); the job's state,
    or "failed" with a warning: nothing about a receipt may cost the sale."""
    try:
        job = enqueue_sale_receipt(
            str(sale["sale_id"]), sale_json, ctx.config.till_name, print_settings(ctx.config)
        )
    except Exception as err:  # noqa: BLE001 - the sale commits without its receipt job
        log_event(
            log, "receipt not queued", logging.WARNING, sale_id=sale["sale_id"], error=str(err)
        )
        return "failed"
    return str(job["state"])


def kick_after_sale(ctx: BoxContext, sale_id: str) -> dict[str, Any]:
    """Kick the drawer for a committed cash sale and record the outcome (never raises)."""
    try:
        return kick_drawer(ctx, sale_id, "sale")
    except PeeweeException as err:
        log_event(log, "drawer result not recorded", logging.WARNING, error=str(err))
        return {"ok": False, "error": ""}


def after_cash_sale(ctx: BoxContext, sale: dict[str, Any]) -> dict[str, Any]:
    """Queue the receipt and kick the drawer; return {"receipt": state, "drawer": outcome}."""
    sale_id = str(sale["sale_id"])
    outcome: dict[str, Any] = {"receipt": "failed", "drawer": {"ok": False, "error": ""}}
    try:
        job = enqueue_receipt(
            sale, till_name=ctx.config.till_name, settings=print_settings(ctx.config)
        )
        outcome["receipt"] = job["state"]
    except (PeeweeException, KeyError, ValueError) as err:
        log_event(log, "receipt not queued", logging.WARNING, sale_id=sale_id, error=str(err))
    try:
        outcome["drawer"] = kick_drawer(ctx, sale_id, "sale")
    except PeeweeException as err:
        log_event(log, "drawer result not recorded", logging.WARNING, error=str(err))
    return outcome


def after_card_sale(ctx: BoxContext, sale: dict[str, Any]) -> dict[str, Any]:
    """Queue the receipt of a sale paid by card only (no cash moved: no drawer kick)."""
    outcome: dict[str, Any] = {"receipt": "failed", "drawer": None}
    try:
        outcome["receipt"] = enqueue_receipt(
            sale, till_name=ctx.config.till_name, settings=print_settings(ctx.config)
        )["state"]
    except (PeeweeException, KeyError, ValueError) as err:
        log_event(
            log, "receipt not queued", logging.WARNING, sale_id=sale["sale_id"], error=str(err)
        )
    return outcome
