"""FR-701: a box keeps enforcing its last known risk mode offline and after a restart.

Real box processes (`python -m appliance ...`) with no broker reachable: the mode arrives
once (as the sync agent would apply it), the web process is stopped and started again, and
the till still refuses the sale with RISK_BLOCKED.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests

from posdomain.envelope import encode
from scripts.testkit.waiting import wait_until
from tests.appliance.factories import PINS, down, seed_messages
from tests.appliance.risk.test_risk_modes import mode_state
from tests.appliance.sync.test_kill import Box, _free_port, _up

pytestmark = pytest.mark.slow


def _till(base: str) -> requests.Session:
    session = requests.Session()
    wait_until(lambda: _up(session, base), timeout=20)
    login = session.post(f"{base}/api/v1/auth/pin", json={"pin": PINS["cashier"]}, timeout=5)
    assert login.status_code == 200
    return session


@pytest.mark.smoke
@pytest.mark.req("FR-701")
def test_smoke_block_holds_offline_across_a_restart(tmp_path: Path) -> None:
    box = Box(tmp_path, ("127.0.0.1", _free_port()))  # nothing listens there: offline
    try:
        box.run("migrate")
        files = []
        risk = {"mode_state": mode_state("BLOCK")}
        for i, msg in enumerate([*seed_messages(), down("risk", 7, risk)]):
            target = tmp_path / f"down-{i}.json"
            target.write_bytes(encode(msg))
            files.append(str(target))
        assert box.run("apply-down", *files).count('"applied": true') == 4
        base = f"http://127.0.0.1:{box.port}"
        for _restart in range(2):
            web = box.start("serve")
            session = _till(base)
            assert session.get(f"{base}/api/v1/status", timeout=5).json()["risk"]["mode"] == (
                "BLOCK"
            )
            scan = session.post(
                f"{base}/api/v1/basket/lines", json={"barcode": "4000000000013"}, timeout=5
            )
            assert scan.status_code == 423
            assert scan.json()["error"]["reason"] == "RISK_BLOCKED"
            session.close()
            web.send_signal(signal.SIGTERM)
            web.wait(15)
    finally:
        box.stop_all()
