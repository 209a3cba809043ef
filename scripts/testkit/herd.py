"""A herd of simulated boxes (crafted-box harness) for the thundering-herd bench and the
several-workers tests: each `SimBox` is an enrolled box with an in-memory backlog of crafted
sales, its own MQTT client (the box's real `PahoTransport`, so the same jittered reconnect)
and the box agent's flow rules (`posdomain.flow.AckWait`, one batch in flight, the ack
applied to the batch it answers, `missing_seqs` resent first, ack waits held while the hub's
ingest is known absent: `posdomain.flow.HubPresence`). It counts what it sent, what it
resent, what the hub answered as duplicates, the flow signals it heard and its holds.

Ingest workers several (`start_workers`): the demo stack's single worker is replaced by N
`python -m hub ingest` processes in one MQTT 5 shared-subscription group.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
import psycopg2
from paho.mqtt.enums import CallbackAPIVersion

from appliance.sync.agent import AgentSettings, backoff_delay
from appliance.sync.transport import PahoTransport
from firmware_config.schema import BrokerEndpoint, MqttSettings
from hub.sync.partition import owner
from posdomain import topics
from posdomain.canonical import canonical_json
from posdomain.envelope import (
    MAX_BATCH_EVENTS,
    MAX_MESSAGE_BYTES,
    BatchAck,
    BatchReceived,
    IngestStatus,
)
from posdomain.flow import AckWait, Flight, HubPresence, SendWindow, ack_base
from scripts.testkit.crafted import realistic_sale, sale_payload
from scripts.testkit.waiting import wait_until

if TYPE_CHECKING:
    from scripts.sync_harness import FaultStack

PY = sys.executable


def enrol_boxes(
    admin_dsn: str, tenant_id: str, branch_id: str, count: int, partitions: int = 0
) -> list[str]:
    """Enrol `count` active boxes straight in the hub database (one transaction); with
    `partitions`, box n falls in ingest partition n mod partitions (hub/sync/partition.py)."""
    ids: list[str] = []
    while len(ids) < count:
        box_id = f"box-herd-{uuid.uuid4().hex[:10]}"
        if not partitions or owner(box_id, partitions) == len(ids) % partitions:
            ids.append(box_id)
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO boxes (box_id, tenant_id, branch_id, name, status, "
                "last_contiguous_seq, max_seq_seen, created_at) "
                "VALUES (%s, %s, %s, %s, 'active', 0, 0, now())",
                [(b, tenant_id, branch_id, b) for b in ids],
            )
    finally:
        conn.close()
    return ids


@dataclass
class Tally:
    """What one simulated box did."""

    batches: int = 0
    events_sent: int = 0
    timeouts: int = 0
    duplicates_answered: int = 0  # events the hub had already and said so
    signals: int = 0
    holds: int = 0  # times the box held its waits: the hub's ingest was known absent
    first_ack_at: float | None = None
    drained_at: float | None = None
    last_ack: float = 0.0  # monotonic clock of the latest ack (absolute, not from t0)
    acks_at: list[float] = field(default_factory=list)  # monotonic clock of every ack


@dataclass
class SimBox:
    """One simulated box with a backlog of crafted sales."""

    box_id: str
    tenant_id: str
    branch_id: str
    port: int
    sales: int
    lines: int = 1
    flow: bool = True  # False: the old fixed ack wait, flow signals and statuses ignored
    settings: AgentSettings = field(default_factory=AgentSettings)
    failover: tuple[int, ...] = ()  # further broker ports (cluster nodes) to fail over to
    follow_presence: bool = True  # False: hub ingest statuses ignored (the box before they existed)
    tally: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.events: dict[int, bytes] = {}
        self.expected: dict[str, int] = {}
        self.seq_of: dict[str, int] = {}  # event id -> seq (acks name held events by id)
        for seq in range(1, self.sales + 1):
            self.events[seq] = self._event(seq)
        self.delivered: set[int] = set()
        self._held = False
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.want: list[int] = []
        others = [BrokerEndpoint(host="127.0.0.1", port=p) for p in self.failover]
        self.transport = PahoTransport(
            MqttSettings(host="127.0.0.1", port=self.port, failover=others),
            f"cfpos-box-{self.box_id}",
        )
        self.transport.subscribe(topics.box_ack(self.box_id), self._put)
        self.transport.subscribe(topics.box_flow(self.box_id), self._put)
        self.presence = HubPresence(self.settings.absent_hold)
        if self.flow and self.follow_presence:
            self.transport.subscribe(topics.ALL_HUB_INGEST_STATUS, self._put)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name=self.box_id, daemon=True)

    def _event(self, seq: int) -> bytes:
        payload = realistic_sale(seq, self.lines) if self.lines > 1 else sale_payload(seq)
        self.expected[payload["sale_id"]] = int(payload["total"].replace(".", ""))
        now = datetime.now(UTC).isoformat()
        event_id = str(uuid.uuid4())
        self.seq_of[event_id] = seq
        event: dict[str, Any] = {
            "event_id": event_id,
            "box_id": self.box_id,
            "tenant_id": self.tenant_id,
            "branch_id": self.branch_id,
            "seq": seq,
            "type": "sale.completed",
            "occurred_at": now,
            "correlation_id": uuid.uuid4().hex,
            "versions": {},
            "payload": payload,
        }
        return canonical_json(event)

    def _put(self, topic: str, payload: bytes) -> None:
        self.inbox.put((topic, payload))

    def start(self, t0_box: list[float]) -> None:
        """Connect (in the background) and start draining; `t0_box[0]` is the clock start."""
        self._t0 = t0_box
        self.transport.start()
        self.thread.start()

    def _next(self, window: SendWindow) -> list[int]:
        flying = window.in_flight()
        if self.want:
            wanted = [s for s in self.want if s not in self.delivered and s not in flying]
            self.want = []
            if wanted:
                return wanted[:MAX_BATCH_EVENTS]
        out = []
        for seq in range(window.last_seq() + 1, self.sales + 1):
            if seq not in self.delivered:
                out.append(seq)
                if len(out) == MAX_BATCH_EVENTS:
                    break
        return out

    def _wire(self, batch_id: uuid.UUID, seqs: list[int]) -> tuple[bytes, list[int]]:
        head = b'{"batch_id":"' + str(batch_id).encode() + b'","box_id":"'
        head += self.box_id.encode() + b'","events":['
        tail = b'],"sent_at":"' + datetime.now(UTC).isoformat().encode() + b'","v":1}'
        size, kept = len(head) + len(tail), list[int]()
        for seq in seqs:
            size += len(self.events[seq]) + 1
            if kept and size > MAX_MESSAGE_BYTES:
                break
            kept.append(seq)
        return head + b",".join(self.events[s] for s in kept) + tail, kept

    def run(self) -> None:
        """Send until every sale is delivered, as the box agent does: up to
        `settings.window` batches in flight (one without flow control: the old box)."""
        failures = 0
        self.silent = 0  # timeouts in a row without a word from the hub (adaptive wait)
        window = SendWindow(self.settings.window if self.flow else 1)
        while not self.stop.is_set() and len(self.delivered) < self.sales:
            if not self.transport.is_connected():
                window.reset()  # a restored link resends from the first unacked event
                self.silent = 0
                self.presence.reset()
                time.sleep(0.05)
                continue
            while window.has_room():
                wanted = self._next(window)
                if not wanted:
                    break
                batch_id = uuid.uuid4()
                raw, seqs = self._wire(batch_id, wanted)
                self.tally.batches += 1
                self.tally.events_sent += len(seqs)
                s = self.settings
                cap = s.ack_wait_cap if self.flow else s.ack_timeout
                base = ack_base(s.ack_timeout, self.silent) if self.flow else s.ack_timeout
                wait = AckWait(time.monotonic(), base, s.ack_wait_hold, max(cap, base))
                window.add(Flight(batch_id, seqs, wait))
                self.transport.publish(topics.box_events(self.box_id), raw, qos=1)
            if not window:
                continue
            if self._await(window):
                failures = 0
            else:
                window.reset()
                self.silent += 1
                self.tally.timeouts += 1
                failures += 1
                self.stop.wait(backoff_delay(failures, self.settings))
        self.tally.drained_at = time.monotonic() - self._t0[0]

    def _await(self, window: SendWindow) -> bool:
        """Until a batch in flight is answered (True) or the oldest one's wait ran out."""
        while not self.stop.is_set():
            now = time.monotonic()
            holding = self._holding(window, now)
            if not holding and window.expired(now) is not None:
                return False
            wait = 0.5 if holding else min(window.remaining(now), 0.5)
            try:
                topic, payload = self.inbox.get(timeout=max(wait, 0.001))
            except queue.Empty:
                continue
            worker = topics.hub_worker_from_topic(topic)
            if worker is not None:
                online = IngestStatus.model_validate_json(payload).online if payload else None
                self.presence.note(worker, online, time.monotonic())
                continue
            self.presence.heard(time.monotonic())
            if topic.endswith("/flow"):
                signal = BatchReceived.model_validate_json(payload)
                flight = window.get(signal.batch_id)
                if self.flow:
                    self.silent = 0
                if self.flow and flight is not None:
                    self.tally.signals += 1
                    flight.wait.signal(time.monotonic(), signal.eta_ms / 1000)
                continue
            ack = BatchAck.model_validate_json(payload)
            self.silent = 0
            answered = window.answered(ack.batch_id)
            self._apply(ack, answered.seqs if answered is not None else [])
            if answered is not None:
                return True
        return False

    def _holding(self, window: SendWindow, now: float) -> bool:
        """The agent's rule: no ack wait runs while the hub's ingest is known absent; when
        it is back, every wait in flight starts afresh."""
        holding, resumed = self.presence.poll(now)
        if resumed:
            window.restart(now)
        if holding and not self._held:
            self.tally.holds += 1
        self._held = holding
        return holding

    def _apply(self, ack: BatchAck, seqs: list[int]) -> None:
        now = time.monotonic()
        if self.tally.first_ack_at is None:
            self.tally.first_ack_at = now - self._t0[0]
        self.tally.last_ack = now
        self.tally.acks_at.append(now)
        self.tally.duplicates_answered += len(ack.duplicates)
        assert not ack.rejected, f"the hub refused a crafted sale: {ack.rejected[:2]}"
        self.delivered.update(s for s in seqs if s <= ack.acked_through)
        # held events by id (a batch applied above a gap: another worker had the one below)
        held = (self.seq_of.get(str(e)) for e in [*ack.accepted, *ack.duplicates])
        self.delivered.update(s for s in held if s is not None)
        self.want = sorted(set(ack.missing_seqs))

    def diagnosis(self) -> str:
        """Where an undrained box stands (for the failure message)."""
        return (
            f"port {self.port}, now on {self.transport.endpoint[1]}, "
            f"connected {self.transport.is_connected()}, "
            f"{len(self.delivered)}/{self.sales} delivered, {self.tally}"
        )

    def close(self) -> None:
        """Stop the loop and disconnect."""
        self.stop.set()
        self.transport.stop()


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


def reconcile_herd(admin_dsn: str, boxes: list[SimBox]) -> dict[str, Any]:
    """Every simulated box's sales are on the hub exactly once, with their totals; no seq
    ingested twice; one sale movement per line (set-wise over all boxes)."""
    expected: dict[str, int] = {}
    for box in boxes:
        expected.update(box.expected)
    ids = [b.box_id for b in boxes]
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, total_minor FROM sales WHERE box_id = ANY(%s)", (ids,))
            hub = [(str(r[0]), int(r[1])) for r in cur.fetchall()]
            cur.execute(
                "SELECT box_id, seq FROM ingested_events WHERE box_id = ANY(%s) "
                "GROUP BY box_id, seq HAVING count(*) > 1 LIMIT 5",
                (ids,),
            )
            dup_seqs = cur.fetchall()
            cur.execute("SELECT count(*) FROM ingested_events WHERE box_id = ANY(%s)", (ids,))
            ingested = int(cur.fetchone()[0])
            cur.execute(
                "SELECT (SELECT count(*) FROM stock_movements m JOIN sales s ON m.ref = s.id "
                "AND m.kind = 'sale' WHERE s.box_id = ANY(%s)), "
                "(SELECT count(*) FROM sale_lines l JOIN sales s ON l.sale_id = s.id "
                "WHERE s.box_id = ANY(%s))",
                (ids, ids),
            )
            moves, lines = cur.fetchone()
    finally:
        conn.close()
    sale_ids = [sid for sid, _ in hub]
    assert len(sale_ids) == len(set(sale_ids)), "duplicate sale on the hub"
    missing = set(expected) - set(sale_ids)
    extra = set(sale_ids) - set(expected)
    assert not missing, f"{len(missing)} box sales missing on the hub"
    assert not extra, f"{len(extra)} hub sales no box sent"
    totals = dict(hub)
    wrong = [sid for sid, total in expected.items() if totals[sid] != total]
    assert not wrong, f"totals differ for {len(wrong)} sales"
    assert not dup_seqs, f"a box seq ingested twice: {dup_seqs}"
    assert ingested == len(expected), f"{ingested} ingested events for {len(expected)} sales"
    assert moves == lines, f"{moves} sale movements for {lines} sale lines"
    return {"sales": len(sale_ids), "total_minor": sum(totals.values()), "lines": int(lines)}


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
    the refresh that listed them (a batch sent before reaches no subscriber: resent)."""

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
            return "ingest subscribed" in text[at:]

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
