"""Staff deactivation reaching a real box (FR-102, NFR-003): prints figures (`just bench`).

Boots the demo stack (hub, ingest, a real box with its sync agent, on the real PostgreSQL and
Mosquitto) in a throwaway database, creates a cashier with a PIN through the hub's staff API
(what the portal calls) and, per round: deactivates them with `PUT /api/v1/staff/{id}/active`
and times, from just before that call, (a) until the box's staff version moves (GET /status,
polled every 10 ms) and (b) until a PIN login on the box is refused (ACCOUNT_INACTIVE; logins
tried back to back); then reactivates them and waits until the PIN works again. Printed beside
them, measured in the same run: one accepted PIN login on the box and one hub API call, so a
slow machine shows as slow everywhere. Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from scripts.demo import Stack, boot, drop_database, free_port
from scripts.demo_smoke import BoxClient, login_of

PIN = "730591"
TIMEOUT_S = 60.0


class Hub:
    """The portal's JSON API with a manager's session cookie and CSRF token."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.http = requests.Session()
        resp = self.http.post(
            self.base + "/auth/login", json={"username": username, "password": password}, timeout=10
        )
        resp.raise_for_status()
        self.http.headers["X-CSRF-Token"] = resp.json()["csrf_token"]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call; raise with the body on an error."""
        resp = self.http.request(method, self.base + path, json=body, timeout=10)
        if resp.status_code >= 400:
            raise RuntimeError(f"hub {method} {path}: {resp.status_code} {resp.text}")
        return resp.json()


def _pin_status(box_port: int) -> tuple[int, str]:
    """One PIN login on the box in a fresh browser session: (status, reason)."""
    resp = requests.post(
        f"http://127.0.0.1:{box_port}/api/v1/auth/pin", json={"pin": PIN}, timeout=10
    )
    reason = "" if resp.ok else str(resp.json().get("error", {}).get("reason", ""))
    return resp.status_code, reason


def _staff_version(box: BoxClient) -> int:
    return int(box.call("GET", "/status").get("versions", {}).get("staff", 0))


def _until(check: Callable[[], bool], what: str, pause: float = 0.0) -> float:
    """Seconds until `check` holds (from now)."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > TIMEOUT_S:
            raise RuntimeError(f"{what}: not within {TIMEOUT_S:.0f} s")
        if pause:
            time.sleep(pause)
    return time.perf_counter() - start


def _round(hub: Hub, box: BoxClient, box_port: int, user_id: str) -> dict[str, float]:
    """Deactivate, time the version and the refused PIN, reactivate and wait for the PIN."""
    before = _staff_version(box)
    t0 = time.perf_counter()
    hub.call("PUT", f"/staff/{user_id}/active", {"active": False})
    call_done = time.perf_counter() - t0
    version = _until(lambda: _staff_version(box) > before, "staff version", 0.01)
    refused = _until(lambda: _pin_status(box_port)[1] == "ACCOUNT_INACTIVE", "refused PIN")
    hub.call("PUT", f"/staff/{user_id}/active", {"active": True})
    _until(lambda: _pin_status(box_port)[0] == 200, "PIN accepted again", 0.05)
    return {
        "hub_call_s": call_done,
        "version_s": call_done + version,
        "refused_s": call_done + version + refused,
    }


def _reference(hub: Hub, box_port: int, user_id: str) -> dict[str, float]:
    """One accepted PIN login on the box and one hub API read, median of 5 each."""
    pin, api = [], []
    for _ in range(5):
        t = time.perf_counter()
        assert _pin_status(box_port)[0] == 200
        pin.append(time.perf_counter() - t)
        t = time.perf_counter()
        hub.call("GET", f"/staff/{user_id}")
        api.append(time.perf_counter() - t)
    return {"pin_login_s": statistics.median(pin), "hub_get_s": statistics.median(api)}


def _measure(stack: Stack, seed: dict[str, Any], rounds: int) -> None:
    manager = login_of(seed, "BRANCH_MANAGER")
    hub = Hub(stack.hub_port, manager["username"], manager["password"])
    box = BoxClient(stack.box_port)
    box.wait_for_master_data()
    made = hub.call(
        "POST",
        "/staff",
        {
            "username": f"bench.{uuid.uuid4().hex[:8]}",
            "display_name": "Bench Cashier",
            "role": "CASHIER",
            "branch_ids": [seed["box_branch_id"]],
            "pin": PIN,
        },
    )
    _until(lambda: _pin_status(stack.box_port)[0] == 200, "new cashier on the box", 0.1)
    ref = _reference(hub, stack.box_port, made["id"])
    runs = [_round(hub, box, stack.box_port, made["id"]) for _ in range(rounds)]
    print(f"staff deactivation -> refused PIN on a real box over the broker ({rounds} rounds)")
    for key, label in (
        ("hub_call_s", "hub PUT /staff/{id}/active answered"),
        ("version_s", "box staff version moved"),
        ("refused_s", "PIN refused (ACCOUNT_INACTIVE)"),
    ):
        values = sorted(r[key] for r in runs)
        print(
            f"  {label:<38} p50 {statistics.median(values) * 1000:8.1f} ms"
            f"   max {values[-1] * 1000:8.1f} ms"
        )
    print(f"  reference: accepted PIN login        {ref['pin_login_s'] * 1000:8.1f} ms")
    print(f"  reference: hub GET /staff            {ref['hub_get_s'] * 1000:8.1f} ms")
    print("  target (NFR-003 window while online): sync starts <= 5 s after a change")


def main() -> None:
    """Boot a throwaway demo stack, print the figures, tear it down."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    # own box and ingest client ids: a demo on the same broker cannot collide (as the e2e)
    os.environ["CFPOS_DEMO_BOX_ID"] = f"box-bench-{uuid.uuid4().hex[:8]}"
    os.environ["CFPOS_INGEST_CLIENT_ID"] = f"cfpos-hub-ingest-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="cfpos-bench-staff-") as var:
        boot_args = argparse.Namespace(
            hub_port=free_port(),
            box_port=free_port(),
            db_name=f"cfpos_bench_staff_{uuid.uuid4().hex[:8]}",
            var=var,
        )
        stack, seed = boot(boot_args)
        try:
            _measure(stack, seed, args.rounds)
        finally:
            stack.stop()
            drop_database(boot_args.db_name)


if __name__ == "__main__":
    main()
