"""The till's risk guard (FR-701): refuse what the mode in force forbids, audit each refusal.

A `before_request` hook, so no write endpoint can forget it: with enforcement on (the
tenant flag `risk_enforcement`, carried as `mode_state.enforced`),

* READ_ONLY refuses every write (POST/PUT/PATCH/DELETE) but the few that end a day safely:
  log in/out, close the shift (its Z report), print the X or Z report, reprint a receipt,
  a printer test, and voiding a basket line (so an open basket can be emptied). Reads —
  sales look-up, reports, status — always work. 423 `RISK_READ_ONLY`.
* BLOCK refuses what moves money through the till: opening a basket (the first scan),
  paying, resuming a parked basket, refunds, post-voids, no-sale drawer opens.
  423 `RISK_BLOCKED`. Everything else works.

Requests without a staff session pass to their view (401, nothing written, not audited).
WARN only shows the banner. The mode is the one the box stored last (appliance.risk.modes),
so it holds offline and after a restart, and lapses on the box clock at `expires_at`.
"""

from __future__ import annotations

import logging

from flask import Flask, request

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext
from appliance.identity.session import live_staff_id
from appliance.risk import modes
from posdomain.audit_chain import Severity
from posdomain.contract import RiskMode, RiskModeState
from posdomain.errors import Locked, Reason
from posdomain.obs import log_event

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_ALLOWED = frozenset(
    {
        "identity.login",
        "identity.logout",
        "till_shifts.close_shift",
        "till_shifts.bank_deposit",  # cash to the bank is not a sale: the day still closes
        "till_shifts.print_x",
        "till_shifts.z_print",
        "hardware.reprint",
        "hardware.test_print",
        "till.void_line",
    }
)
BLOCKED_IN_BLOCK = frozenset(
    {
        "till.add_line",
        "till.pay",
        "till.resume_basket",
        "till_refunds.create_refund",
        "till_refunds.post_void",
        "till_refunds.no_sale",
    }
)
MESSAGES = {
    RiskMode.READ_ONLY: "this till is read-only by order of head office",
    RiskMode.BLOCK: "sales are blocked on this till by order of head office",
}
REASONS = {RiskMode.READ_ONLY: Reason.RISK_READ_ONLY, RiskMode.BLOCK: Reason.RISK_BLOCKED}


def refuses(state: RiskModeState, method: str, endpoint: str) -> bool:
    """True if the enforced mode forbids this request."""
    if method not in WRITES:
        return False
    if state.mode == RiskMode.READ_ONLY:
        return endpoint not in READ_ONLY_ALLOWED
    if state.mode == RiskMode.BLOCK:
        return endpoint in BLOCKED_IN_BLOCK
    return False


def check(ctx: BoxContext, method: str, endpoint: str, actor: str) -> None:
    """Raise 423 with the mode's reason code if the mode in force forbids it (audited)."""
    state = modes.enforced()
    if state is None or not refuses(state, method, endpoint):
        return
    reason = REASONS[state.mode]
    details = {
        "mode": state.mode.value,
        "scope": state.scope,
        "scope_id": state.scope_id,
        "reason": state.reason,
        "expires_at": state.expires_at,
    }
    audit_log.append_now(
        ctx,
        actor=actor,
        action="risk.refused",
        target=endpoint,
        severity=Severity.WARN,
        details={**details, "reason_code": reason.value, "method": method},
    )
    log_event(log, "refused by risk mode", logging.WARNING, endpoint=endpoint, reason=reason)
    raise Locked(MESSAGES[state.mode], reason, details)


def init_app(app: Flask, ctx: BoxContext) -> None:
    """Install the guard (after the hook that opens the database connection)."""

    @app.before_request
    def _risk_guard() -> None:
        # without a session the view answers 401 and writes nothing: no audit entry for it,
        # so an anonymous client on the LAN cannot flood the audit log
        if request.method not in WRITES or not request.endpoint:
            return
        state = modes.enforced()  # the mode first: no session look-up when nothing is refused
        if state is None or not refuses(state, request.method, request.endpoint):
            return
        staff_id = live_staff_id()
        if staff_id is not None:
            check(ctx, request.method, request.endpoint, f"staff:{staff_id}")
