"""Simulated boxes (crafted-box harness) for the thundering-herd bench and the several-workers
tests: each `SimBox` is an enrolled box with an in-memory backlog of crafted sales, its own
MQTT client (the box's real `PahoTransport`, so the same jittered reconnect) and the box
agent's flow rules (`posdomain.flow.AckWait`, a window of batches in flight, the ack applied
to the batch it answers, `missing_seqs` resent first, ack waits held while the hub's ingest
is known absent: `posdomain.flow.HubPresence`). It counts what it sent, what it resent, what
the hub answered as duplicates, the flow signals it heard and its holds. `reconcile_herd`
checks the hub holds exactly what the boxes sold. Needs no fault stack (scripts/testkit/herd.py
runs herds on one).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg2

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
    password_file: str | None = None  # a broker with per-box logins: username = box id
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
            MqttSettings(
                host="127.0.0.1",
                port=self.port,
                failover=others,
                username=self.box_id if self.password_file else None,
                password_file=self.password_file,
            ),
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
