"""The sync protocol on a real clustered broker (issue 15 item 3): a three-node nats-server
cluster (JetStream with R3 MQTT streams, MQTT 3.1.1 interface, QoS 1) started on loopback;
simulated boxes on nodes 0 and 1, the hub's ingest worker on node 2; node 1 is SIGKILLed
mid-run and started again; the final reconciliation is exact (every sale once, totals to the
cent, no seq twice).

Both runs are chaos runs (marker `chaos`: `just test-chaos` or `just chaos-cluster`, not the
normal suite: a cluster start, a herd of 1 000+ sales, a node kill and the drain take minutes).
In the first the boxes list the other nodes as failover endpoints (`mqtt.failover`), as a box
of a clustered store would: those of node 1 move to another node at once. The second adds
boxes with a single broker URL, which wait for their node to come back (kept down for a
while), on a larger herd. The normal suite keeps one box failing over on the same three-node
cluster (tests/appliance/sync/test_broker_failover.py).
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.sync.agent import AgentSettings
from scripts.sync_harness import FaultStack
from scripts.testkit.herd import HerdResult, SimBox, end_session, run_herd, stack_log
from scripts.testkit.nats_cluster import NATS, NatsCluster
from scripts.testkit.waiting import wait_until

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not Path(NATS).exists(), reason="no nats-server"),
]


@dataclass
class ClusterRun:
    """Figures of one run: the herd's, and how the boxes of the killed node fared."""

    herd: HerdResult
    down_s: float  # node 1 SIGKILLed -> started again
    resumed_s: float  # node 1 SIGKILLed -> every box that was on it had an ack again
    phases: dict[str, float]  # seconds from the start of the run


def cluster_run(
    fs: FaultStack,
    folder: Path,
    *,
    boxes: int = 6,
    sales: int = 300,
    down: float = 0.0,
    failover: bool = True,
    drain_timeout: float = 600.0,
) -> ClusterRun:
    """Run the herd over a fresh cluster, SIGKILL node 1 once two batches are applied, start
    it again `down` seconds after node 0 carried on, wait for the herd to drain. With
    `failover` every box lists the other nodes as its failover endpoints."""
    t0 = time.monotonic()
    cluster = NatsCluster(folder)
    worker = f"hub-ingest-nats-{uuid.uuid4().hex[:6]}"  # its own log: counts start at 0
    try:
        fs.stack.kill("hub-ingest")
        end_session(fs.broker.port, fs.stack.env["CFPOS_INGEST_CLIENT_ID"])
        env = {
            **fs.stack.env,
            "CFPOS_MQTT_URL": f"mqtt://127.0.0.1:{cluster.nodes[2].mqtt}",
            "CFPOS_INGEST_CLIENT_ID": f"cfpos-hub-ingest-nats-{uuid.uuid4().hex[:6]}",
        }
        # started while the cluster starts: it waits for its broker (connect retried)
        fs.stack.start(worker, [sys.executable, "-m", "hub", "ingest"], env=env)
        cluster.start()
        phases = {"cluster up": time.monotonic() - t0}
        wait_until(lambda: "ingest subscribed" in stack_log(fs, worker), 90, "the worker on node 2")
        phases["worker subscribed"] = time.monotonic() - t0
        started = threading.Event()
        out: dict[str, Any] = {}
        herd: list[SimBox] = []

        def run() -> None:
            try:
                out["result"] = run_herd(
                    fs,
                    boxes,
                    sales,
                    outage=False,
                    timeout=drain_timeout,
                    settings=AgentSettings(ack_timeout=3.0, ack_wait_hold=10.0),
                    started=started,
                    ports=[cluster.nodes[0].mqtt, cluster.nodes[1].mqtt],
                    herd_out=herd,
                    failover=[n.mqtt for n in cluster.nodes] if failover else None,
                )
            except BaseException as err:  # re-raised in the test thread
                out["error"] = err

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert started.wait(120), "the herd did not start"
        wait_until(lambda: stack_log(fs, worker).count('"batch applied"') >= 2, 120, "batches")
        killed_at = time.monotonic()
        cluster.kill(1)  # SIGKILL the node half of the boxes are connected to
        on_killed = [b for b in herd if b.port == cluster.nodes[1].mqtt]
        applied = stack_log(fs, worker).count('"batch applied"')
        wait_until(
            lambda: stack_log(fs, worker).count('"batch applied"') > applied,
            120,
            "node 0 carries on",
        )
        time.sleep(down)
        cluster.start(1)
        down_s = time.monotonic() - killed_at
        thread.join(drain_timeout + 60)
        assert not thread.is_alive(), "the herd did not drain"
        if "error" in out:
            raise out["error"]
        resumed = [min(t for t in b.tally.acks_at if t > killed_at) for b in on_killed]
        phases["drained"] = time.monotonic() - t0
        return ClusterRun(out["result"], down_s, max(resumed) - killed_at, phases)
    finally:
        fs.stack.kill(worker)
        connected = stack_log(fs, "hub-ingest").count("ingest connected")
        fs.stack.start("hub-ingest", fs.stack.argvs["hub-ingest"], fs.stack.envs.get("hub-ingest"))
        cluster.stop()  # while the single worker starts
        wait_until(
            lambda: stack_log(fs, "hub-ingest").count("ingest connected") > connected,
            60,
            "the single ingest worker back",
        )


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_nats_cluster_node_sigkilled_mid_run_boxes_fail_over_and_reconcile_exactly(
    fault_stack: FaultStack, tmp_path: Path
) -> None:
    run = cluster_run(fault_stack, tmp_path / "nats", boxes=4, sales=250, drain_timeout=300)
    assert run.herd.reconciled["sales"] == 4 * 250
    _report("failover", run)


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_nats_cluster_single_url_boxes_wait_for_their_node_and_reconcile_exactly(
    fault_stack: FaultStack, tmp_path: Path
) -> None:
    run = cluster_run(fault_stack, tmp_path / "nats", down=8.0, failover=False)
    assert run.herd.reconciled["sales"] == 6 * 300
    _report("single broker URL", run)


def _report(what: str, run: ClusterRun) -> None:
    print(
        f"\nnats cluster ({what}): {run.herd.report()}; node 1 down {run.down_s:.1f}s, "
        f"its boxes acked again {run.resumed_s:.1f}s after the kill; "
        + ", ".join(f"{k} at {v:.1f}s" for k, v in run.phases.items())
    )
