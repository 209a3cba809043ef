"""`just smoke HUB BOX`: the Release Governance smoke tier against a deployed hub + box pair.

Release Governance section 5, over HTTP only (nothing in-process), each check PASS or FAIL
with what it saw:

1. `auth_context`: no session is 401 AUTH_REQUIRED; the owner's login names its tenant;
   another tenant's path is 403 (tenant path validation).
2. `product_scope`: the tenant's product list answers, the other tenant's is 403.
3. `offline_queue`: the box's outbox drains: the box is online, its sync agent seen lately
   and nothing queued longer than `--max-queue-age` (the queue retries until acked).
4. `risk_modes`: the mode the hub holds for the box is the one the box enforces; with
   `--exercise-risk` the box's own scope is set to WARN, READ_ONLY and BLOCK in turn (then
   NORMAL) and each must reach the box (its /status), READ_ONLY and BLOCK refusing a basket
   line at the till with RISK_READ_ONLY / RISK_BLOCKED (needs the flag `risk_enforcement`).
5. `audit_read`: the audit log endpoint answers a page and the integrity report is intact.

With `--artifact NAME` the result is stored with the release on the hub
(`POST /api/v1/releases/NAME/smoke`, as an APPLICATION_OWNER: `--admin-user`), trigger
`promotion` (before promoting) or `rollback` (after one); the release page shows it and
promotion needs a passing one. Exit 0 when every check passed, 1 otherwise, 2 on usage.

Logins default to the demo's; in a real environment pass them by environment variable:
CFPOS_SMOKE_USER / CFPOS_SMOKE_PASSWORD (tenant owner), CFPOS_SMOKE_ADMIN_USER /
CFPOS_SMOKE_ADMIN_PASSWORD, CFPOS_SMOKE_PIN (a cashier of the box), CFPOS_SMOKE_OTHER_TENANT.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

TIMEOUT_S = 10.0
RISK_WAIT_S = 30.0


@dataclass
class Check:
    """One smoke check's verdict."""

    name: str
    passed: bool
    detail: str


@dataclass
class Pair:
    """The deployed hub and box, with a signed-in hub session."""

    hub: str
    box: str
    user: str
    password: str
    other_tenant: str
    pin: str
    session: requests.Session = field(default_factory=requests.Session)
    tenant_id: str = ""
    box_id: str = ""

    def hub_call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A hub request with the owner's session (and its CSRF token)."""
        headers = {"X-CSRF-Token": self.session.headers.get("X-CSRF-Token", "")}
        return self.session.request(
            method, self.hub + path, timeout=TIMEOUT_S, headers=headers, **kw
        )

    def box_status(self) -> dict[str, Any]:
        """The box's /status (public: what the cashier screen polls)."""
        resp = requests.get(self.box + "/api/v1/status", timeout=TIMEOUT_S)
        resp.raise_for_status()
        body: dict[str, Any] = resp.json()
        return body


def _reason(resp: requests.Response) -> str | None:
    try:
        return str(resp.json()["error"]["reason"])
    except (ValueError, KeyError, TypeError):
        return None


def auth_context(pair: Pair) -> Check:
    """401 without a session, login names the tenant, another tenant's path 403."""
    anon = requests.get(pair.hub + "/api/v1/sales", timeout=TIMEOUT_S)
    if anon.status_code != 401 or _reason(anon) != "AUTH_REQUIRED":
        return Check("auth_context", False, f"no session: {anon.status_code} {_reason(anon)}")
    login = pair.session.post(
        pair.hub + "/api/v1/auth/login",
        json={"username": pair.user, "password": pair.password},
        timeout=TIMEOUT_S,
    )
    if login.status_code != 200:
        return Check("auth_context", False, f"login: {login.status_code} {_reason(login)}")
    me = pair.hub_call("GET", "/api/v1/auth/me").json()
    pair.session.headers["X-CSRF-Token"] = me.get("csrf_token", "")
    pair.tenant_id = str(me["principal"]["tenant_id"] or "")
    foreign = pair.hub_call("GET", f"/api/v1/tenants/{pair.other_tenant}/config/branding")
    ok = bool(pair.tenant_id) and foreign.status_code == 403
    return Check(
        "auth_context",
        ok,
        f"tenant {pair.tenant_id}; other tenant's path {foreign.status_code} {_reason(foreign)}",
    )


def product_scope(pair: Pair) -> Check:
    """The tenant's product list answers; the other tenant's is 403."""
    own = pair.hub_call("GET", "/api/v1/products")
    foreign = pair.hub_call("GET", f"/api/v1/tenants/{pair.other_tenant}/products")
    total = own.json().get("total") if own.status_code == 200 else None
    ok = own.status_code == 200 and foreign.status_code in (403, 404)
    return Check(
        "product_scope",
        ok,
        f"own {own.status_code} ({total} products); other {foreign.status_code}",
    )


def offline_queue(pair: Pair, max_age_s: float) -> Check:
    """The box is online and its queue drains (nothing older than `max_age_s` unacked)."""
    status = pair.box_status()
    pair.box_id = str(status["box_id"])
    last_ack = status.get("last_ack_at")
    queued = int(status.get("queued", 0))
    age = None
    if last_ack:
        age = (datetime.now(UTC) - datetime.fromisoformat(last_ack)).total_seconds()
    draining = queued == 0 or (age is not None and age <= max_age_s)
    ok = bool(status.get("online")) and draining
    return Check(
        "offline_queue",
        ok,
        f"online {status.get('online')}, {queued} queued, last ack {last_ack}, agent seen "
        f"{status.get('agent_seen_at')}",
    )


def _box_mode(status: dict[str, Any]) -> str:
    risk = status.get("risk") or {}
    return str(risk.get("mode") or "NORMAL")


def _wait_mode(pair: Pair, want: str, sleep: Callable[[float], None]) -> str:
    deadline = time.monotonic() + RISK_WAIT_S
    seen = _box_mode(pair.box_status())
    while seen != want and time.monotonic() < deadline:
        sleep(0.5)
        seen = _box_mode(pair.box_status())
    return seen


def _till_refusal(pair: Pair) -> str | None:
    """The reason the till gives for a basket line now (None when it takes it)."""
    till = requests.Session()
    login = till.post(pair.box + "/api/v1/auth/pin", json={"pin": pair.pin}, timeout=TIMEOUT_S)
    if login.status_code != 200:
        return f"PIN login {login.status_code}"
    line = till.post(pair.box + "/api/v1/basket/lines", json={"barcode": "0"}, timeout=TIMEOUT_S)
    return _reason(line)


def risk_modes(pair: Pair, exercise: bool, sleep: Callable[[float], None] = time.sleep) -> Check:
    """The box enforces the hub's mode; with `exercise`, WARN / READ_ONLY / BLOCK in turn."""
    held = pair.hub_call("GET", f"/api/v1/risk/boxes/{pair.box_id}/mode")
    if held.status_code != 200:
        return Check("risk_modes", False, f"hub mode: {held.status_code} {_reason(held)}")
    hub_mode = str(held.json()["mode_state"].get("mode") or "NORMAL")
    box_mode = _box_mode(pair.box_status())
    if not exercise:
        return Check("risk_modes", hub_mode == box_mode, f"hub {hub_mode}, box {box_mode}")
    seen: list[str] = []
    ok = True
    expected = {"READ_ONLY": "RISK_READ_ONLY", "BLOCK": "RISK_BLOCKED"}
    for mode in ("WARN", "READ_ONLY", "BLOCK", "NORMAL"):
        body = {"scope": "box", "scope_id": pair.box_id, "mode": mode, "reason": "smoke tier"}
        resp = pair.hub_call("POST", "/api/v1/risk/modes", json=body)
        if resp.status_code != 201:
            return Check("risk_modes", False, f"set {mode}: {resp.status_code} {_reason(resp)}")
        reached = _wait_mode(pair, mode, sleep)
        refusal = _till_refusal(pair) if mode in expected else None
        ok = ok and reached == mode and refusal == expected.get(mode, refusal)
        seen.append(f"{mode}: box {reached}" + (f", till {refusal}" if refusal else ""))
    return Check("risk_modes", ok, "; ".join(seen))


def audit_read(pair: Pair) -> Check:
    """The audit log endpoint answers and the chains verify."""
    page = pair.hub_call("GET", "/api/v1/audit")
    integrity = pair.hub_call("GET", "/api/v1/audit/integrity")
    entries = len(page.json().get("items", [])) if page.status_code == 200 else None
    report = integrity.json() if integrity.status_code == 200 else {}
    locked = bool(report.get("locked"))
    chains = report.get("chains") or []
    chains = [*chains, *(report.get("box_chains") or [])]
    broken = [c.get("chain") for c in chains if isinstance(c, dict) and c.get("ok") is False]
    ok = page.status_code == 200 and integrity.status_code == 200 and not locked and not broken
    return Check("audit_read", ok, f"audit {page.status_code} ({entries} entries); broken {broken}")


def run(pair: Pair, *, max_queue_age: float, exercise_risk: bool) -> list[Check]:
    """Every smoke check in order; a check that cannot run fails with its error."""
    steps: list[tuple[str, Callable[[], Check]]] = [
        ("auth_context", lambda: auth_context(pair)),
        ("product_scope", lambda: product_scope(pair)),
        ("offline_queue", lambda: offline_queue(pair, max_queue_age)),
        ("risk_modes", lambda: risk_modes(pair, exercise_risk)),
        ("audit_read", lambda: audit_read(pair)),
    ]
    out = []
    for name, step in steps:
        try:
            out.append(step())
        except (requests.RequestException, ValueError, KeyError) as err:
            out.append(Check(name, False, f"{type(err).__name__}: {err}"[:300]))
    return out


def record(
    hub: str, artifact: str, admin: tuple[str, str], environment: str, trigger: str,
    checks: list[Check], pair: Pair,
) -> dict[str, Any]:  # fmt: skip
    """Store the result with the release on the hub; the stored smoke run."""
    session = requests.Session()
    login = session.post(
        hub + "/api/v1/auth/login", json={"username": admin[0], "password": admin[1]},
        timeout=TIMEOUT_S,
    )  # fmt: skip
    login.raise_for_status()
    csrf = session.get(hub + "/api/v1/auth/me", timeout=TIMEOUT_S).json().get("csrf_token", "")
    summary = {
        "hub": hub,
        "box": pair.box,
        "box_id": pair.box_id,
        "tenant_id": pair.tenant_id,
        "checks": {c.name: {"passed": c.passed, "detail": c.detail} for c in checks},
    }
    body: dict[str, Any] = {
        "environment": environment,
        "trigger": trigger,
        "passed": all(c.passed for c in checks),
        "summary": summary,
    }
    resp = session.post(
        f"{hub}/api/v1/releases/{artifact}/smoke", json=body, headers={"X-CSRF-Token": csrf},
        timeout=TIMEOUT_S,
    )  # fmt: skip
    if resp.status_code != 201:
        raise RuntimeError(f"storing the smoke run: {resp.status_code} {resp.text[:300]}")
    stored: dict[str, Any] = resp.json()
    return stored


def main(argv: list[str] | None = None) -> int:
    """Parse, run the checks, print them, store them with the release if asked."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.smoke_pair", description=__doc__.split("\n")[0]
    )
    parser.add_argument("hub", help="hub base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("box", help="box base URL, e.g. http://127.0.0.1:8100")
    parser.add_argument("--artifact", help="store the result with this release on the hub")
    parser.add_argument("--environment", default="DEV", choices=("DEV", "STAGING", "PROD"))
    parser.add_argument(
        "--trigger", default="promotion", choices=("promotion", "rollback", "manual")
    )
    parser.add_argument("--max-queue-age", type=float, default=900.0, help="seconds (15 min)")
    parser.add_argument("--exercise-risk", action="store_true", help="flip the box's risk mode")
    args = parser.parse_args(argv)
    env = os.environ.get
    pair = Pair(
        hub=args.hub.rstrip("/"),
        box=args.box.rstrip("/"),
        user=env("CFPOS_SMOKE_USER", "owner"),
        password=env("CFPOS_SMOKE_PASSWORD", "owner-demo-pass"),
        other_tenant=env("CFPOS_SMOKE_OTHER_TENANT", "t-harborfoods"),
        pin=env("CFPOS_SMOKE_PIN", "1234"),
    )
    checks = run(pair, max_queue_age=args.max_queue_age, exercise_risk=args.exercise_risk)
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}", flush=True)
    passed = all(c.passed for c in checks)
    print("smoke: " + ("PASS" if passed else "FAIL"), flush=True)
    if args.artifact:
        admin = (
            env("CFPOS_SMOKE_ADMIN_USER", "admin"),
            env("CFPOS_SMOKE_ADMIN_PASSWORD", "admin-demo-pass"),
        )
        stored = record(
            pair.hub, args.artifact, admin, args.environment, args.trigger, checks, pair
        )
        print(json.dumps({"stored": stored["id"], "artifact": args.artifact}), flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
