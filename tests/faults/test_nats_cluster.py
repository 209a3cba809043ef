"""The sync protocol on a real clustered broker (issue 15 item 3): a three-node nats-server
cluster (JetStream with R3 MQTT streams, MQTT 3.1.1 interface, QoS 1) started on loopback;
simulated boxes on nodes 0 and 1, two hub ingest workers on node 2 that partition the boxes
between them (`CFPOS_INGEST_PARTITION=k/2`: NATS' MQTT interface has no `$share/`) and list
the other nodes as their failover (`CFPOS_MQTT_FAILOVER`); one node is SIGKILLed mid-run and
started again; each box's batches were applied by its own worker only, and the final
reconciliation is exact (every sale once, totals to the cent, no seq twice).

Both runs are chaos runs (marker `chaos`: `just test-chaos` or `just chaos-cluster`, not the
normal suite: a cluster start, a herd of 1 000+ sales, a node kill and the drain take minutes).
In the first the boxes list the other nodes as failover endpoints (`mqtt.failover`), as a box
of a clustered store would: those of node 1 move to another node at once. The second adds
boxes with a single broker URL, which wait for their node to come back (kept down for a
while), on a larger herd. The third kills node 2, the workers' node: they move to node 0 or 1
with their persistent sessions (R3) and the boxes carry on. The normal suite keeps one box
failing over on the same three-node cluster (tests/appliance/sync/test_broker_failover.py)
and two partitioned workers on a private Mosquitto (tests/hub/test_ingest_partition.py).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.sync.agent import AgentSettings
from hub.sync.partition import owner
from scripts.sync_harness import FaultStack
from scripts.testkit.herd import (
    HerdResult,
    end_session,
    partitions_subscribed,
    run_herd,
    stack_log,
)
from scripts.testkit.nats_cluster import NATS, NatsCluster
from scripts.testkit.simbox import SimBox
from scripts.testkit.waiting import wait_until
from tests.faults.ingest_holding_tx import HOOK_LINE

HOLDING = [sys.executable, "-m", "tests.faults.ingest_holding_tx", "2"]
pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not Path(NATS).exists(), reason="no nats-server"),
]


@dataclass
class ClusterRun:
    """Figures of one run: the herd's, and how the boxes of the killed node fared."""

    herd: HerdResult
    killed: int  # the node SIGKILLed
    down_s: float  # node SIGKILLed -> started again
    resumed_s: float  # node SIGKILLed -> every box that was on it (all: node 2) acked again
    phases: dict[str, float]  # seconds from the start of the run
    applied_by: dict[str, set[int]]  # box id -> the partitions that applied its batches
    failed_over: int  # workers that logged moving to another node
    took_over: set[int]  # workers that served boxes of another partition for a while
    absences: int = 0  # times a worker heard another go (its last will, or cleared)
    away: frozenset[int] = frozenset()  # workers that lost their link or were killed


def cluster_run(
    fs: FaultStack,
    folder: Path,
    *,
    boxes: int = 6,
    sales: int = 300,
    down: float = 0.0,
    failover: bool = True,
    drain_timeout: float = 600.0,
    workers: int = 2,
    kill: int = 1,
    kill_worker: bool = False,
) -> ClusterRun:
    """Run the herd over a fresh cluster, SIGKILL node `kill` once two batches are applied,
    start it again `down` seconds after the workers carried on, wait for the herd to drain.
    With `failover` every box lists the other nodes as its failover endpoints; the
    `workers` partitioned ingest workers on node 2 always list nodes 0 and 1 as theirs.
    With `kill_worker`, worker 0 sleeps inside each batch transaction and is SIGKILLed in
    one together with the node; the others take over its boxes (hub/sync/takeover.py) until
    it is started again (the plain command) with the node."""
    t0 = time.monotonic()
    cluster = NatsCluster(folder)
    run = uuid.uuid4().hex[:6]
    names = [f"hub-ingest-nats-{run}-{k}" for k in range(workers)]  # own logs: counts from 0
    try:
        fs.stack.kill("hub-ingest")
        end_session(fs.broker.port, fs.stack.env["CFPOS_INGEST_CLIENT_ID"])
        envs: dict[str, dict[str, str]] = {}
        for k, name in enumerate(names):
            env = {
                **fs.stack.env,
                "CFPOS_MQTT_URL": cluster.url(2),
                "CFPOS_MQTT_FAILOVER": cluster.failover_urls(2),
                "CFPOS_INGEST_CLIENT_ID": f"cfpos-hub-ingest-nats-{run}",  # + -p<k>of<n>
                "CFPOS_INGEST_PARTITION": f"{k}/{workers}",
                "CFPOS_INGEST_PARTITION_REFRESH": "1",  # the herd enrols after they start
                "CFPOS_INGEST_PARTITION_STALE": "6",
            }
            envs[name] = env
            argv = HOLDING if kill_worker and k == 0 else [sys.executable, "-m", "hub", "ingest"]
            # started while the cluster starts: it waits for its broker (connect retried)
            fs.stack.start(name, argv, env=env)
        cluster.start()
        phases = {"cluster up": time.monotonic() - t0}
        # no box is enrolled yet: connected is ready (each box is subscribed by a refresh)
        wait_until(
            lambda: all("ingest connected" in stack_log(fs, n) for n in names),
            90,
            "the workers on node 2",
        )
        phases["workers connected"] = time.monotonic() - t0

        def applied() -> int:
            return sum(stack_log(fs, n).count('"batch applied"') for n in names)

        def subscribed(ids: list[str]) -> None:
            """The boxes of a store are enrolled before they sell: let the workers' refresh
            (every 1 s) subscribe to them first (a batch before that reaches no one)."""
            enrolled_at = time.monotonic()
            partitions_subscribed(fs, names)(ids)
            phases["new boxes subscribed after"] = time.monotonic() - enrolled_at

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
                    enrolled=subscribed,
                    workers=workers,
                    partitions=workers,
                )
            except BaseException as err:  # re-raised in the test thread
                out["error"] = err

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert started.wait(120), "the herd did not start"
        wait_until(lambda: applied() >= 2, 120, "batches")
        if kill_worker:
            wait_until(lambda: HOOK_LINE in stack_log(fs, names[0]), 120, "worker 0 in a batch")
            fs.stack.kill(names[0])  # SIGKILL with its batch transaction open
        killed_at = time.monotonic()
        cluster.kill(kill)  # SIGKILL: half of the boxes' node (1), or the workers' node (2)
        # the boxes whose sales wait on the dead node: those on it, or all if it was the hub's
        on_killed = [b for b in herd if b.port == cluster.nodes[kill].mqtt] or herd
        before = applied()
        wait_until(lambda: applied() > before, 120, "the others carry on")
        if kill_worker:
            orphans = {b.box_id for b in herd if owner(b.box_id, workers) == 0}
            wait_until(
                lambda: any(orphans & set(_applied_boxes(fs, n)) for n in names[1:]),
                180,
                "worker 0's boxes taken over",
            )
        time.sleep(down)
        cluster.start(kill)
        if kill_worker:
            fs.stack.start(names[0], [sys.executable, "-m", "hub", "ingest"], env=envs[names[0]])
        down_s = time.monotonic() - killed_at
        thread.join(drain_timeout + 60)
        assert not thread.is_alive(), "the herd did not drain"
        if "error" in out:
            raise out["error"]
        # (a box whose last ack came before the kill had nothing left to resume)
        after = [[t for t in b.tally.acks_at if t > killed_at] for b in on_killed]
        resumed = [min(ts) for ts in after if ts] or [killed_at]
        phases["drained"] = time.monotonic() - t0
        by: dict[str, set[int]] = {b.box_id: set() for b in herd}
        for k, name in enumerate(names):
            for box_id in _applied_boxes(fs, name):
                by.setdefault(box_id, set()).add(k)
        took = {k for k, n in enumerate(names) if _took_over(stack_log(fs, n))}
        gone = '"ingest worker presence"'
        absences = sum(
            1
            for n in names
            for line in stack_log(fs, n).splitlines()
            if gone in line and '"online": false' in line
        )
        moved = sum("ingest failing over" in stack_log(fs, n) for n in names)
        away = frozenset(
            k
            for k, n in enumerate(names)
            if (kill_worker and k == 0) or "ingest disconnected" in stack_log(fs, n)
        )
        return ClusterRun(
            out["result"],
            kill,
            down_s,
            max(resumed) - killed_at,
            phases,
            by,
            moved,
            took,
            absences,
            away,
        )
    finally:
        for name in names:
            fs.stack.kill(name)
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
    _own_worker_only(run, 2)
    _held_only_while_every_worker_was_away(run, 2)
    _report("failover", run)


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_nats_cluster_single_url_boxes_wait_for_their_node_and_reconcile_exactly(
    fault_stack: FaultStack, tmp_path: Path
) -> None:
    run = cluster_run(fault_stack, tmp_path / "nats", down=8.0, failover=False)
    assert run.herd.reconciled["sales"] == 6 * 300
    _own_worker_only(run, 2)
    _held_only_while_every_worker_was_away(run, 2)
    _report("single broker URL", run)


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_nats_cluster_ingest_workers_node_sigkilled_workers_fail_over_and_reconcile_exactly(
    fault_stack: FaultStack, tmp_path: Path
) -> None:
    run = cluster_run(fault_stack, tmp_path / "nats", boxes=6, sales=200, kill=2, down=4.0)
    assert run.herd.reconciled["sales"] == 6 * 200
    assert run.failed_over == 2, "both workers moved to another node"
    _own_worker_only(run, 2)
    _held_only_while_every_worker_was_away(run, 2)
    _report("workers' node killed", run)


def _applied_boxes(fs: FaultStack, name: str) -> list[str]:
    """The box of every batch a worker process logged as applied (every run of it)."""
    return [
        json.loads(line)["box_id"]
        for line in stack_log(fs, name).splitlines()
        if '"batch applied"' in line and line.startswith("{")
    ]


def _took_over(log: str) -> bool:
    """True if the worker logged serving boxes of another partition at some point."""
    return any(
        "ingest partition refreshed" in line and '"taken_over": 0' not in line
        for line in log.splitlines()
    )


def _own_worker_only(run: ClusterRun, workers: int) -> None:
    """Every box's batches were applied, and by the worker of its partition only — or also,
    or instead, by a worker that took over while the owner seemed gone: a node kill can
    close a worker's connection (its last will makes the others take over until it is
    back), and NATS handles a client's packets in order, so a worker whose SUBSCRIBE to new
    boxes takes seconds (JetStream consumers, R3, on a busy machine: 11 s seen) sends no beat
    meanwhile and goes stale for the others, who may then apply a box's whole backlog."""
    assert all(run.applied_by.values()), f"boxes no worker applied: {run.applied_by}"
    strays = {
        b: ks for b, ks in run.applied_by.items() if not ks - {owner(b, workers)} <= run.took_over
    }
    assert not strays, f"batches applied by another partition's worker: {strays}"


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.req("FR-303", "NFR-003", "NFR-006")
def test_nats_cluster_partitioned_worker_and_a_node_sigkilled_others_take_over_exactly(
    fault_stack: FaultStack, tmp_path: Path
) -> None:
    """Three partitioned workers; worker 0 SIGKILLed inside a batch transaction together
    with node 1: workers 1 and 2 serve its boxes until it is back, then give them back."""
    run = cluster_run(
        fault_stack, tmp_path / "nats", boxes=6, sales=300, down=6.0, workers=3, kill_worker=True
    )
    assert run.herd.reconciled["sales"] == 6 * 300
    assert run.took_over & {1, 2}, "no survivor took over worker 0's boxes"
    assert all(run.applied_by.values()), f"boxes no worker applied: {run.applied_by}"
    strays = {b: ks for b, ks in run.applied_by.items() if not ks <= {owner(b, 3)} | run.took_over}
    assert not strays, f"applied by a worker that neither owned nor took them over: {strays}"
    _held_only_while_every_worker_was_away(run, 3)
    _report("partitioned worker 0 and node 1 killed", run)


def _held_only_while_every_worker_was_away(run: ClusterRun, workers: int) -> None:
    """A box holds its ack waits only while every worker it heard of says offline
    (`posdomain.flow.HubPresence`, through the cluster's retained statuses and wills): while
    one worker kept its link throughout the run, the hub's ingest was present and a hold
    would be a false absence (the box waiting instead of resending). A box on the killed
    node re-learns the statuses on its next node and must not hold either."""
    if run.away != frozenset(range(workers)):
        assert run.herd.holds == 0, (
            f"{run.herd.holds} holds while worker(s) "
            f"{sorted(set(range(workers)) - run.away)} kept their link throughout"
        )


def _report(what: str, run: ClusterRun) -> None:
    print(
        f"\nnats cluster ({what}): {run.herd.report()}; node {run.killed} down "
        f"{run.down_s:.1f}s, its boxes acked again {run.resumed_s:.1f}s after the kill; "
        f"workers that failed over {run.failed_over}; took over {sorted(run.took_over)}, "
        f"absences heard {run.absences}, workers away {sorted(run.away)}; boxes per worker "
        f"{sorted(Counter(min(k) for k in run.applied_by.values() if k).items())}; "
        + ", ".join(f"{k} at {v:.1f}s" for k, v in run.phases.items())
    )
