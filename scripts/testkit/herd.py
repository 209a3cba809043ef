"""Herds of simulated boxes (scripts/testkit/simbox.py) on the fault stack, for the
thundering-herd bench and the several-workers tests: `run_herd` enrols and drains a herd
(optionally through a broker or ingest outage) and reconciles it exactly.

Ingest workers several (`start_workers`): the demo stack's single worker is replaced by N
`python -m hub ingest` processes in one MQTT 5 shared-subscription group, or partitioning
the boxes (CFPOS_INGEST_PARTITION).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from appliance.sync.agent import AgentSettings
from hub.sync.partition import owner
from scripts.testkit.simbox import SimBox, enrol_boxes, reconcile_herd
from scripts.testkit.waiting import wait_until

if TYPE_CHECKING:
    from scripts.sync_harness import FaultStack

PY = sys.executable


@dataclass
class HerdResult:
    """Figures of one herd run."""

    boxes: int
    sales: int
    lines: int
    workers: int
    drain_s: float
    first_ack_s: float
    batches: int
    events_sent: int
    timeouts: int
    duplicates_answered: int
    signals: int
    broker_dropped: bool
    reconciled: dict[str, Any]
    holds: int = 0  # hold episodes: boxes that saw the hub's ingest absent and did not resend

    @property
    def unique(self) -> int:
        """Events the boxes had to deliver."""
        return self.boxes * self.sales

    @property
    def resent(self) -> int:
        """Events sent more than once."""
        return self.events_sent - self.unique

    def report(self) -> str:
        """One line of figures."""
        wasted = 100 * self.resent / self.unique
        return (
            f"{self.boxes} boxes x {self.sales} sales of {self.lines} line(s), "
            f"{self.workers} worker(s): drained in {self.drain_s:.1f}s "
            f"({self.unique / self.drain_s:.0f} sales/s), first ack {self.first_ack_s:.2f}s, "
            f"{self.batches} batches, {self.timeouts} ack timeouts, "
            f"{self.resent} events resent ({wasted:.1f}% wasted), "
            f"{self.duplicates_answered} answered as duplicates, {self.signals} flow signals, "
            f"{self.holds} holds while the hub's ingest was absent; "
            f"broker dropped messages: {'YES' if self.broker_dropped else 'no'}; "
            f"reconciled exactly: {self.reconciled['sales']} sales, "
            f"{self.reconciled['total_minor'] / 100:.2f} total"
        )


def end_session(port: int, client_id: str) -> None:
    """End a persistent MQTT session (connect with a clean session, then leave)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish("cfpos/v1/herd/session-ended", b"", qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def stack_log(fs: FaultStack, name: str) -> str:
    """The log of one process of the stack ("" before it wrote one)."""
    path = fs.stack.var / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def partitions_subscribed(fs: FaultStack, names: list[str]) -> Callable[[list[str]], None]:
    """A `run_herd(enrolled=...)` hook for partitioned workers (`names[k]` runs partition k of
    len(names)): wait until every worker owning one of the new boxes logged a SUBACK after
    the refresh that listed them, or that refresh needed none (the catch-all's `+` filters
    have them already); a batch sent before reaches no subscriber: resent."""

    def wait(ids: list[str]) -> None:
        count = len(names)
        owning = [n for k, n in enumerate(names) if any(owner(b, count) == k for b in ids)]
        had = {n: stack_log(fs, n).count("ingest partition refreshed") for n in owning}

        def granted(name: str) -> bool:
            text, at = stack_log(fs, name), -1
            for _ in range(had[name] + 1):  # the first refresh after the enrolment
                at = text.find("ingest partition refreshed", at + 1)
                if at < 0:
                    return False
            # the catch-all (lowest live partition) has the `+` filters: nothing to subscribe
            line = text[at : text.find("\n", at)]
            return '"filters_added": 0' in line or "ingest subscribed" in text[at:]

        wait_until(lambda: all(granted(n) for n in owning), 90, "workers subscribed to new boxes")

    return wait


def start_workers(
    fs: FaultStack,
    count: int,
    group: str | None = None,
    argv_of: Callable[[int], list[str]] | None = None,
    partition: bool = False,
) -> list[str]:
    """Replace the stack's ingest worker by `count` workers in one shared-subscription group
    (each its own client id; `argv_of(n)`: worker n's command instead of `hub ingest`), or
    with `partition` by `count` workers that partition the boxes (CFPOS_INGEST_PARTITION,
    refreshed every second: the herd enrols its boxes after they start); return their
    process names."""
    for name, _proc in list(fs.stack.procs):
        if name.startswith("hub-ingest"):
            fs.stack.kill(name)
    # the single worker's persistent session would keep collecting (and dropping) batches
    end_session(fs.broker.port, fs.stack.env.get("CFPOS_INGEST_CLIENT_ID", "cfpos-hub-ingest"))
    group = group or f"ingest-{uuid.uuid4().hex[:6]}"
    names = []
    for n in range(count):
        name = f"hub-ingest-{n}"
        env = {**fs.stack.env, "CFPOS_INGEST_CLIENT_ID": f"cfpos-hub-ingest-{group}-{n}"}
        if partition:
            env |= {"CFPOS_INGEST_PARTITION": f"{n}/{count}", "CFPOS_INGEST_PARTITION_REFRESH": "1"}
        else:
            env["CFPOS_INGEST_SHARED_GROUP"] = group
        argv = argv_of(n) if argv_of else [PY, "-m", "hub", "ingest"]
        fs.stack.start(name, argv, env=env)
        names.append(name)
    # a batch published before any member subscribed is lost (and resent): wait for all
    ready = "ingest connected" if partition else "ingest subscribed"  # a partition: no box yet
    wait_until(
        lambda: all(ready in stack_log(fs, n) for n in names),
        max(90.0, float(os.environ.get("CFPOS_DEMO_BOOT_TIMEOUT") or 0)),  # a loaded machine
        "workers subscribed",
    )
    return names


def run_herd(
    fs: FaultStack,
    boxes: int,
    sales: int,
    *,
    lines: int = 1,
    workers: int = 1,
    flow: bool = True,
    outage: bool = True,
    timeout: float = 1800.0,
    settings: AgentSettings | None = None,
    started: threading.Event | None = None,
    ports: list[int] | None = None,
    ingest_outage: float = 0.0,
    herd_out: list[SimBox] | None = None,
    failover: list[int] | None = None,
    enrolled: Callable[[list[str]], None] | None = None,
    partitions: int = 0,
    presence: bool = True,
) -> HerdResult:
    """Enrol `boxes` simulated boxes with `sales` queued sales each; with `outage` the broker
    is down while they start, then comes back and all of them reconnect at once; `ports`:
    the boxes are spread over these broker ports (cluster nodes); `ingest_outage` seconds:
    the ingest workers are down (broker up) for that long from the start; `herd_out`
    receives the simulated boxes as soon as they exist; `failover`: broker ports every box
    lists (but its own) as failover endpoints (`MqttSettings.failover`); `enrolled(ids)` is
    called once the boxes are enrolled, before they start (e.g. to wait for partitioned workers
    to subscribe to them); `partitions`: the boxes are spread evenly over that many ingest
    partitions (CFPOS_INGEST_PARTITION); `presence` False: the boxes ignore the hub ingest
    workers' statuses (the reference before they existed). Returns the figures after an exact
    reconciliation."""
    tenant, branch = fs.seed["tenant_id"], fs.seed["box_branch_id"]
    ids = enrol_boxes(fs.admin_dsn, tenant, branch, boxes, partitions)
    if enrolled is not None:
        enrolled(ids)
    ports = ports or [fs.broker.port]
    herd = [
        SimBox(
            b,
            tenant,
            branch,
            port,
            sales,
            lines,
            flow,
            settings or AgentSettings(),
            tuple(p for p in failover or [] if p != port),
            presence,
        )
        for b, port in zip(ids, _spread(ports, len(ids)), strict=True)
    ]
    if herd_out is not None:  # the caller watches the boxes while they drain
        herd_out.extend(herd)
    t0 = [time.monotonic()]
    try:
        if outage:
            fs.broker.stop()
        stopped = []
        if ingest_outage:
            stopped = [n for n, _p in fs.stack.procs if n.startswith("hub-ingest")]
            for name in stopped:
                fs.stack.kill(name)
        for box in herd:
            box.start(t0)
        if outage:
            time.sleep(1.0)
            t0[0] = time.monotonic()
            fs.broker.start()
        else:
            t0[0] = time.monotonic()
        if started is not None:
            started.set()
        if stopped:
            time.sleep(ingest_outage)
            for name in stopped:
                fs.stack.restart(name)
        deadline = time.monotonic() + timeout
        for box in herd:
            box.thread.join(max(0.1, deadline - time.monotonic()))
            if box.thread.is_alive():
                raise AssertionError(
                    f"{box.box_id} did not drain in {timeout:.0f}s: {box.diagnosis()}"
                )
        drain = max(b.tally.drained_at or 0.0 for b in herd)
    finally:
        for box in herd:
            box.close()
    reconciled = reconcile_herd(fs.admin_dsn, herd)
    tallies = [b.tally for b in herd]
    return HerdResult(
        boxes,
        sales,
        lines,
        workers,
        drain,
        min(t.first_ack_at or drain for t in tallies),
        sum(t.batches for t in tallies),
        sum(t.events_sent for t in tallies),
        sum(t.timeouts for t in tallies),
        sum(t.duplicates_answered for t in tallies),
        sum(t.signals for t in tallies),
        bool(dropped_clients(fs) & ({f"cfpos-box-{b}" for b in ids} | ingest_clients(fs))),
        reconciled,
        holds=sum(t.holds for t in tallies),
    )


def dropped_clients(fs: FaultStack) -> set[str]:
    """Client ids the broker logged dropping outgoing messages for (max_queued_messages)."""
    path = fs.broker.log_path
    text = path.read_text(errors="replace") if path.exists() else ""
    marker = "being dropped for client "
    return {line.split(marker, 1)[1].rstrip(". ") for line in text.splitlines() if marker in line}


def ingest_clients(fs: FaultStack) -> set[str]:
    """The client ids of the stack's ingest workers (single or shared)."""
    ids = {env.get("CFPOS_INGEST_CLIENT_ID", "") for env in fs.stack.envs.values()}
    return {i for i in ids if i} | {fs.stack.env.get("CFPOS_INGEST_CLIENT_ID", "cfpos-hub-ingest")}


def _spread(ports: list[int], count: int) -> list[int]:
    """Box n connects to broker port n mod len(ports) (boxes on different cluster nodes)."""
    return [ports[n % len(ports)] for n in range(count)]


def load() -> str:
    """The 1-minute load average and the core count, for the printed figures."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
