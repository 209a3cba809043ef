"""A partitioned ingest worker SIGKILLed mid-batch (issue 15 item 3): three `hub ingest`
processes partition the boxes (`CFPOS_INGEST_PARTITION=k/3`) on a private Mosquitto; worker 0
sleeps inside every batch transaction (tests/faults/ingest_holding_tx.py) and is SIGKILLed
while one is open. The broker publishes its last will, workers 1 and 2 take over its boxes
(hub/sync/takeover.py) and apply the batches the boxes resend; worker 0 is started again
(the plain command, same client id) and gets its boxes back. Simulated boxes with the box
agent's rules (scripts/testkit/simbox.py) drain through it all and the reconciliation is
exact: every sale once with its total, no seq twice, one movement per line.

Before the takeover the killed worker's boxes waited for it: this test then fails at "its
boxes taken over" (nothing else applies them until the restart, which the test only does
after a survivor applied one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from appliance.sync.agent import AgentSettings
from hub.boxes import broker_acl
from hub.sync.partition import owner
from scripts.demo import free_port
from scripts.testkit.broker import MOSQUITTO, PrivateBroker
from scripts.testkit.simbox import SimBox, enrol_boxes, reconcile_herd
from scripts.testkit.waiting import wait_until
from tests.faults.ingest_holding_tx import HOOK_LINE
from tests.hub.ingest_helpers import B, T

pytestmark = [
    pytest.mark.pg,
    pytest.mark.mqtt,
    pytest.mark.slow,
    pytest.mark.req("FR-303", "NFR-003", "NFR-006"),
    pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="no mosquitto"),
]
ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """Partitioned `hub ingest` processes with their own logs."""

    def __init__(self, folder: Path, port: int, app_url: str, count: int) -> None:
        self.folder, self.count = folder, count
        base = f"ingest-kill-{uuid.uuid4().hex[:6]}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CFPOS_HUB_DATABASE_URL": app_url,
            "CFPOS_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "CFPOS_INGEST_CLIENT_ID": base,  # + -p<k>of<n>
            "CFPOS_INGEST_PARTITION_REFRESH": "0.5",
            "CFPOS_INGEST_PARTITION_STALE": "10",
        }
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.files: list[IO[bytes]] = []
        self.runs = {k: 0 for k in range(count)}

    def log(self, k: int, run: int | None = None) -> str:
        path = self.folder / f"worker-{k}-{self.runs[k] if run is None else run}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, k: int, argv: list[str] | None = None) -> None:
        self.runs[k] += 1
        out = (self.folder / f"worker-{k}-{self.runs[k]}.log").open("wb")
        self.files.append(out)
        env = {**self.env, "CFPOS_INGEST_PARTITION": f"{k}/{self.count}"}
        argv = argv or [sys.executable, "-m", "hub", "ingest"]
        self.procs[k] = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=out)

    def applied(self, k: int, run: int | None = None) -> list[str]:
        """Box ids of the batches worker k applied (in its run `run`, default the latest)."""
        return [
            json.loads(line)["box_id"]
            for line in self.log(k, run).splitlines()
            if '"batch applied"' in line and line.startswith("{")
        ]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
        for out in self.files:
            out.close()


def _locked_broker(tmp_path: Path, ids: list[str]) -> tuple[PrivateBroker, dict[str, str]]:
    """A broker with the files `python -m hub mqtt-config` writes (the hub's login, one per
    box as enrolment makes it: username = box id); returns it and the env of the hub's login."""
    box_pw = tmp_path / "box.password"
    box_pw.write_text("box-secret\n")
    users = [broker_acl.MqttUser(b, broker_acl.python_hash("box-secret"), b) for b in ids]
    out, port = tmp_path / "mqtt", free_port()
    run_as = "root" if os.geteuid() == 0 else None
    broker_acl.write_broker_files(out, users, datetime.now(UTC), port=port, run_as=run_as)
    login = {
        "CFPOS_MQTT_USERNAME": broker_acl.HUB_USER,
        "CFPOS_MQTT_PASSWORD_FILE": str(out / "hub-ingest.password"),
    }
    return PrivateBroker(out, port=port, conf_path=out / "mosquitto.conf"), login


@pytest.mark.parametrize("acl", [False, True], ids=["anonymous", "generated-acls"])
def test_a_partitioned_worker_sigkilled_mid_batch_loses_and_duplicates_nothing(
    hub_urls: tuple[str, str], tmp_path: Path, acl: bool
) -> None:
    """With `generated-acls` the broker is locked as `python -m hub mqtt-config` locks it:
    the workers' statuses, wills and beats must pass the hub's ACL, the boxes their own."""
    admin_url, app_url = hub_urls
    ids = enrol_boxes(admin_url, T, B, 6, partitions=3)  # two boxes of each partition
    broker, login = (
        _locked_broker(tmp_path, ids) if acl else (PrivateBroker(tmp_path / "broker"), {})
    )
    broker.start()
    mine = [b for b in ids if owner(b, 3) == 0]
    workers = Workers(tmp_path, broker.port, app_url, 3)
    workers.env.update(login)
    holding = [sys.executable, "-m", "tests.faults.ingest_holding_tx", "3"]
    settings = AgentSettings(ack_timeout=2.0, ack_wait_hold=8.0, window=1)
    box_pw = str(tmp_path / "box.password") if acl else None
    herd = [SimBox(b, T, B, broker.port, 300, settings=settings, password_file=box_pw) for b in ids]
    try:
        for k in range(3):
            workers.start(k, holding if k == 0 else None)
        wait_until(
            lambda: all("ingest subscribed" in workers.log(k) for k in range(3)),
            120,
            "three workers subscribed",
        )
        t0 = [0.0]
        for box in herd:
            box.start(t0)
        # worker 0 inside the transaction of a batch of one of its boxes (up to 200 sales)
        wait_until(lambda: HOOK_LINE in workers.log(0), 120, "worker 0 inside a batch")
        workers.procs[0].kill()  # SIGKILL, transaction open: rolled back, never acked
        workers.procs[0].wait(10)
        survivors = (1, 2)
        wait_until(
            lambda: any(set(mine) & set(workers.applied(k)) for k in survivors),
            120,
            "its boxes taken over",
        )
        for k in survivors:  # each survivor logged the takeover (live set without 0)
            assert '"live": [1, 2]' in workers.log(k)
        workers.start(0)  # back, the plain command, same client id (its session)
        wait_until(
            lambda: all(workers.log(k).count('"live": [0, 1, 2]') >= 2 for k in survivors),
            120,
            "its boxes given back",
        )
        for box in herd:
            box.thread.join(300)
            assert not box.thread.is_alive(), f"{box.box_id} did not drain: {box.diagnosis()}"
    finally:
        for box in herd:
            box.close()
        workers.stop()
        broker.stop()
    reconciled = reconcile_herd(admin_url, herd)  # exact, set-wise over all boxes
    assert reconciled["sales"] == 6 * 300
    # nothing of worker 0's first run was committed: every batch it began was its hook's
    assert all(b in mine for b in workers.applied(0, run=1))
    print(
        f"\npartition takeover: {reconciled['sales']} sales reconciled; batches applied "
        f"by worker 0 before/after its restart {len(workers.applied(0, 1))}/"
        f"{len(workers.applied(0, 2))}, by 1 and 2 "
        f"{[len(workers.applied(k)) for k in (1, 2)]}; of worker 0's boxes by the survivors "
        f"{sum(b in mine for k in (1, 2) for b in workers.applied(k))}; resent "
        f"{sum(b.tally.events_sent for b in herd) - 6 * 300} events, "
        f"{sum(b.tally.duplicates_answered for b in herd)} answered as duplicates"
    )
