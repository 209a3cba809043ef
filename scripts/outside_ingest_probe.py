"""An outside tester's probe of hub ingest: never lose a sale, never trust a box's arithmetic.

    python -m scripts.outside_ingest_probe [--rounds 3]   # boots its own private stack

Only outside tools touch the hub: `mosquitto_pub` publishes a few hundred crafted and
hostile batches, as the stack's real enrolled box (replays on its used seqs with fresh event
ids, tampered copies of its held events, seqs far beyond its high-water mark, poison
messages on its topic) and as a second enrolled box (sales that break every domain rule,
poison events mixed with valid sales, duplicates, conflicts, another box's sale and event
ids), while the real box keeps selling through its own API; `mosquitto_sub` reads the
hub's acks; SQL reads what the hub holds. The verdict:

* the hub holds exactly the real box's sales (ids, count, totals to the cent, one stock
  movement per line, no seq ingested twice) and the real box's outbox drains;
* it holds exactly the second box's valid sales and nothing it was sent that breaks a rule;
* every hostile event is answered `rejected` with the expected reason (never `accepted` or
  `duplicates`), every hostile whole message is quarantined with its reason;
* the ingest log has no unclassified failure.

The probe never publishes on a fresh seq of the real box: a forged event there is, to the
hub, that authenticated box's own event (docs/sync-protocol.md "What the hub refuses").
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from posdomain import topics
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale
from scripts.sync_harness import FaultStack, hub_rows, hub_sales, reconcile_box, start_fault_stack
from scripts.testkit.crafted import enrol_box_row, sale_payload
from scripts.testkit.hostile import batch_bytes, envelope, poison_messages, rule_breakers

PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
HELD = "held"
# applied events (a refused one that holds its seq keeps no payload); no newer column used,
# so the probe runs unchanged against an older hub too
APPLIED = "payload <> '{}'::jsonb"


class AckTap:
    """`mosquitto_sub` on every box's ack topic, acks kept by batch id."""

    def __init__(self, port: int) -> None:
        argv = [
            SUB,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-q",
            "1",
            "-v",
            "-i",
            f"probe-acks-{uuid.uuid4().hex[:8]}",
            "-t",
            topics.box_ack("+"),
        ]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.acks: dict[str, dict[str, Any]] = {}
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        time.sleep(0.5)  # subscribed before the first publish

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            _topic, _, body = line.partition(" ")
            try:
                ack = json.loads(body)
            except ValueError:
                continue
            with self.cond:
                self.acks[str(ack.get("batch_id"))] = ack
                self.cond.notify_all()

    def wait(self, batch_id: str, timeout: float) -> dict[str, Any] | None:
        """The ack of a batch, or None after `timeout` seconds."""
        with self.cond:
            self.cond.wait_for(lambda: batch_id in self.acks, timeout)
            return self.acks.get(batch_id)

    def close(self) -> None:
        """Stop mosquitto_sub and its reader."""
        self.proc.terminate()
        self.proc.wait(5)
        self.reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def publish(port: int, topic: str, raw: bytes) -> None:
    """One QoS 1 publish with mosquitto_pub (the message on stdin, any bytes)."""
    subprocess.run(
        [PUB, "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-s"],
        input=raw,
        check=True,
        timeout=20,
    )


@dataclass
class Report:
    """What the probe sent and every way the hub did not answer as it must."""

    messages: int = 0
    events: int = 0
    surprises: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Probe:
    """Sends crafted traffic and checks each answer."""

    fs: FaultStack
    tap: AckTap
    report: Report = field(default_factory=Report)

    def send(self, box: str, events: list[Any], expect: dict[str, str]) -> dict[str, Any] | None:
        """Publish a batch until acked (the broker may drop); check `expect` {event_id:
        HELD | reason}: held = accepted or duplicate, a reason = rejected with it."""
        batch_id = str(uuid.uuid4())
        raw = batch_bytes(box, events, batch_id)
        ack = None
        for _attempt in range(3):
            publish(self.fs.broker.port, topics.box_events(box), raw)
            self.report.messages += 1
            ack = self.tap.wait(batch_id, 15)
            if ack is not None:
                break
        self.report.events += len(events)
        if ack is None:
            self.report.surprises.append(f"no ack for a batch of {len(events)} to {box}")
            return None
        held = {*ack["accepted"], *ack["duplicates"]}
        refused = {r.get("event_id"): r["reason"] for r in ack["rejected"]}
        if held & set(refused):
            self.report.surprises.append(f"held and refused at once: {held & set(refused)}")
        for event_id, want in expect.items():
            got = HELD if event_id in held else refused.get(event_id, "no answer")
            if got != want:
                self.report.surprises.append(f"{event_id}: wanted {want}, got {got}")
        return ack

    def refuse_whole(self, box: str, name: str, raw: bytes, reason: str) -> None:
        """Publish a message the hub must quarantine whole, and see that it did."""
        sql = "SELECT count(*) FROM quarantine WHERE box_id = %s AND reason = %s"
        before = hub_rows(self.fs.admin_dsn, sql, (box, reason))[0][0]
        for _attempt in range(3):
            publish(self.fs.broker.port, topics.box_events(box), raw)
            self.report.messages += 1
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if hub_rows(self.fs.admin_dsn, sql, (box, reason))[0][0] > before:
                    return
                time.sleep(0.1)
        self.report.surprises.append(f"{name}: not quarantined as {reason}")


WHOLE_REASONS = {
    "not JSON": "MALFORMED_MESSAGE",
    "nested 50 000 deep": "MALFORMED_MESSAGE",
    "NaN batch id": "MALFORMED_MESSAGE",
    "protocol v9": "UNSUPPORTED_VERSION",
    "over 256 KiB": "PAYLOAD_TOO_LARGE",
    "no events": "MALFORMED_MESSAGE",
    "batch of another box": "BOX_MISMATCH",
    "a 5 000-digit integer": "MALFORMED_MESSAGE",
}


@dataclass
class SecondBox:
    """The second enrolled box: its next seq and the sales the hub must hold for it."""

    box_id: str
    tenant: str
    branch: str
    next_seq: int = 1
    expected: dict[str, int] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def sale(self, seq: int | None = None) -> dict[str, Any]:
        """A valid sale on the next seq, or on `seq` (expected on the hub)."""
        at = self.take() if seq is None else seq
        ev = envelope(self.box_id, self.tenant, self.branch, at, sale_payload(1))
        self.expected[ev["payload"]["sale_id"]] = 298
        self.sent.append(ev)
        return ev

    def take(self) -> int:
        """The next seq."""
        self.next_seq += 1
        return self.next_seq - 1


def _poison_events(second: SecondBox) -> list[tuple[str, str]]:
    """Raw JSON texts of events that break parsing, each with the reason they must get."""
    nan = envelope(second.box_id, second.tenant, second.branch, second.take(), sale_payload(1))
    nan["payload"]["lines"][0]["discounts"] = [
        {"policy_id": "p", "policy_version": "@N@", "kind": "amount", "amount": "0.00"}
    ]
    huge = envelope(second.box_id, second.tenant, second.branch, second.take(), sale_payload(1))
    huge["payload"]["receipt_no"] = "@H@"
    deep: Any = 1
    for _ in range(40):
        deep = {"n": deep}
    nested = envelope(
        second.box_id,
        second.tenant,
        second.branch,
        second.take(),
        {**sale_payload(1), "customer": deep},
    )
    return [
        (json.dumps(nan).replace('"@N@"', "NaN"), nan["event_id"]),
        (json.dumps(huge).replace('"@H@"', "9" * 5000), huge["event_id"]),
        (json.dumps(nested), nested["event_id"]),
    ]


def as_second_box(probe: Probe, second: SecondBox) -> None:
    """Valid sales, every rule breaker, poison events and messages, duplicates, conflicts."""
    box = second.box_id
    valid = [second.sale() for _ in range(5)]
    probe.send(box, valid, {e["event_id"]: HELD for e in valid})
    for hostile in rule_breakers():
        bad = envelope(box, second.tenant, second.branch, second.take(), hostile.payload)
        good = second.sale()
        probe.send(box, [bad, good], {bad["event_id"]: hostile.reason, good["event_id"]: HELD})
    for name, raw in poison_messages(box, second.tenant, second.branch):
        probe.refuse_whole(box, name, raw, WHOLE_REASONS[name])
    poison, good = _poison_events(second), second.sale()
    raw_batch = json.loads(batch_bytes(box, [good]))
    texts = [json.dumps(good), *(text for text, _id in poison)]
    wire = json.dumps({**raw_batch, "events": []}).replace(
        '"events": []', '"events": [' + ", ".join(texts) + "]"
    )
    batch_id = raw_batch["batch_id"]
    publish(probe.fs.broker.port, topics.box_events(box), wire.encode())
    probe.report.messages += 1
    ack = probe.tap.wait(batch_id, 15)
    refused = {r.get("event_id"): r["reason"] for r in (ack or {}).get("rejected", [])}
    if ack is None or good["event_id"] not in ack["accepted"]:
        probe.report.surprises.append("the valid sale beside poison events was not applied")
    for _text, event_id in poison:
        if refused.get(event_id) != "MALFORMED_MESSAGE":
            probe.report.surprises.append(f"poison event {event_id}: {refused.get(event_id)}")
    probe.send(box, copy.deepcopy(valid), {e["event_id"]: HELD for e in valid})  # resent
    forged = envelope(box, second.tenant, second.branch, valid[0]["seq"], sale_payload(1))
    tampered = copy.deepcopy(valid[1])
    tampered["payload"]["cashier_name"] = "Mallory"
    far = envelope(box, second.tenant, second.branch, second.next_seq + 20_000_000, sale_payload(1))
    probe.send(
        box,
        [forged, tampered, far],
        {
            forged["event_id"]: "SEQ_CONFLICT",
            tampered["event_id"]: "EVENT_ID_CONFLICT",
            far["event_id"]: "SEQ_OUT_OF_RANGE",
        },
    )


def _held_rows(fs: FaultStack, box: str, limit: int) -> list[tuple[Any, ...]]:
    return hub_rows(
        fs.admin_dsn,
        "SELECT seq, event_id, type, payload FROM ingested_events WHERE box_id = %s "
        f"AND {APPLIED} ORDER BY seq DESC LIMIT %s",
        (box, limit),
    )


def against_real_box(probe: Probe, second: SecondBox, per_round: int) -> None:
    """Forge the real box's used seqs, tamper its held events, steal its ids; no fresh seq."""
    fs, real = probe.fs, probe.fs.box_id
    tenant, branch = fs.seed["tenant_id"], fs.seed["box_branch_id"]
    rows = _held_rows(fs, real, per_round)
    for seq, event_id, kind, payload in rows:
        forged = envelope(real, tenant, branch, int(seq), sale_payload(int(seq)))
        probe.send(real, [forged], {forged["event_id"]: "SEQ_CONFLICT"})
        tampered = envelope(real, tenant, branch, int(seq), copy.deepcopy(payload), kind)
        tampered["event_id"] = event_id
        if kind == "sale.completed":
            tampered["payload"]["total"] = "0.01"
        else:
            tampered["payload"]["probe"] = "tampered"
        probe.send(real, [tampered], {event_id: "EVENT_ID_CONFLICT"})
    high = max([int(r[0]) for r in rows] or [0])
    far = envelope(real, tenant, branch, high + 20_000_000, sale_payload(1))
    probe.send(real, [far], {far["event_id"]: "SEQ_OUT_OF_RANGE"})
    for name, raw in poison_messages(real, tenant, branch):
        probe.refuse_whole(real, name, raw, WHOLE_REASONS[name])
    sales = [r for r in rows if r[2] == "sale.completed"]
    if sales:  # the second box claims a real sale id and a real event id
        taken = envelope(
            second.box_id,
            second.tenant,
            second.branch,
            second.take(),
            {**sale_payload(1), "sale_id": sales[0][3]["sale_id"]},
        )
        hole = second.take()
        stolen = envelope(second.box_id, second.tenant, second.branch, hole, sale_payload(1))
        stolen["event_id"] = sales[0][1]
        probe.send(second.box_id, [taken], {taken["event_id"]: "DOCUMENT_ID_CONFLICT"})
        probe.send(second.box_id, [stolen], {stolen["event_id"]: "EVENT_ID_CONFLICT"})
        filler = second.sale(hole)  # a conflict never consumes its seq: the box's own fills it
        probe.send(second.box_id, [filler], {filler["event_id"]: HELD})


class Seller(threading.Thread):
    """The real box's cashier selling through the box API while the probe runs."""

    def __init__(self, fs: FaultStack) -> None:
        super().__init__(daemon=True)
        self.box = fs.cashier()
        self.codes = self.box.first_barcodes(2)
        self.halt = threading.Event()
        self.sold = 0
        self.errors: list[str] = []

    def run(self) -> None:
        """Sell until stopped (an error ends the loop and is reported)."""
        while not self.halt.wait(0.3):
            try:
                self.box.sell(self.codes, "100.00")
            except Exception as err:  # noqa: BLE001 - reported as a surprise
                self.errors.append(repr(err))
                return
            self.sold += 1


def _rules_hold(fs: FaultStack, box: str) -> list[str]:
    ctx = Context("EUR", 2, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2))
    rows = hub_rows(
        fs.admin_dsn,
        "SELECT event_id, payload FROM ingested_events WHERE box_id = "
        f"%s AND {APPLIED} AND type = 'sale.completed'",
        (box,),
    )
    bad = []
    for event_id, payload in rows:
        try:
            broken = [str(v.reason) for v in check_sale(SaleCompleted.model_validate(payload), ctx)]
        except ValueError:  # pydantic: not even the schema holds
            broken = ["schema"]
        if broken:
            bad.append(f"stored sale breaks {broken[0]}: {event_id}")
    return bad


def _verdict(probe: Probe, second: SecondBox, seller: Seller) -> None:
    fs, report = probe.fs, probe.report
    try:
        figures = reconcile_box(fs, timeout=120)  # the real box: drained and exact
    except AssertionError as err:
        report.surprises.append(f"real box: {err}")
        figures = {"sales": len(hub_sales(fs.admin_dsn, fs.box_id))}
    got = dict(hub_sales(fs.admin_dsn, second.box_id))
    if got != second.expected:
        report.surprises.append(
            f"second box: hub holds {len(got)}, expected {len(second.expected)} sales"
        )
    report.surprises += _rules_hold(fs, fs.box_id) + _rules_hold(fs, second.box_id)
    report.surprises += [f"the real box's cashier failed: {e}" for e in seller.errors]
    log = (fs.stack.var / "hub-ingest.log").read_text(errors="replace")
    for needle in ("unexpected ingest error", "classified INTERNAL", "event failed to apply"):
        if needle in log:
            report.surprises.append(f"ingest log: {needle}")
    critical = hub_rows(
        fs.admin_dsn,
        "SELECT count(*) FROM reconciliation_items WHERE box_id IN "
        "(%s, %s) AND kind IN ('SEQ_CONFLICT', 'EVENT_ID_CONFLICT', 'SEQ_OUT_OF_RANGE', "
        "'EVENT_QUARANTINED')",
        (fs.box_id, second.box_id),
    )
    report.figures = {
        **figures,
        "sold_during_probe": seller.sold,
        "second_box_sales": len(got),
        "refusals_raised": critical[0][0],
    }


def run_probe(fs: FaultStack, rounds: int = 3, per_round: int = 15) -> Report:
    """Run the probe against a running fault stack; the report lists every surprise."""
    tenant, branch = fs.seed["tenant_id"], fs.seed["box_branch_id"]
    second = SecondBox(enrol_box_row(fs.admin_dsn, tenant, branch), tenant, branch)
    cashier = fs.cashier()
    for _ in range(5):
        cashier.sell(cashier.first_barcodes(2), "100.00")
    reconcile_box(fs, timeout=60)
    tap, seller = AckTap(fs.broker.port), Seller(fs)
    probe = Probe(fs, tap)
    seller.start()
    try:
        for _ in range(rounds):
            as_second_box(probe, second)
            against_real_box(probe, second, per_round)
    finally:
        seller.halt.set()
        seller.join(30)
        tap.close()
    for _ in range(5):
        cashier.sell(cashier.first_barcodes(1), "100.00")
    _verdict(probe, second, seller)
    return probe.report


def main() -> int:
    """Boot a private stack, probe it, print the verdict (exit 1 on any surprise)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-round", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp), max_queued_messages=3, max_inflight_messages=2)
        try:
            report = run_probe(fs, args.rounds, args.per_round)
        finally:
            fs.stop()
    print(f"published {report.messages} messages ({report.events} events in batches)")
    print(f"figures: {report.figures}")
    for surprise in report.surprises:
        print(f"SURPRISE: {surprise}")
    print("verdict:", "FAIL" if report.surprises else "hub held exactly the box's sales")
    return 1 if report.surprises else 0


if __name__ == "__main__":
    raise SystemExit(main())
