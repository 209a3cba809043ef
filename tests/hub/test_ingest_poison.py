"""Findings 3 and 4 (P0): a poison message never blocks a box, one huge seq never slows it.

Every failure of a batch is classified: a transient database error is retried (no ack, the
box resends); anything else is quarantined event by event with a reason and the rest of the
batch is applied. Sequence numbers and every envelope counter are bounded, gaps are computed
as capped ranges, and a seq far beyond the box's high-water mark is a conflict.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg2
import pytest
from peewee import InterfaceError, OperationalError

from hub.core.db import db
from hub.sync import apply
from scripts.testkit.crafted import B, T, sale_payload
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import (
    acked_ids,
    box_row,
    envelope,
    quarantined,
    raw_batch,
    rejected,
    sale,
    sale_ids,
    send,
    send_raw,
)

pytestmark = [pytest.mark.pg]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"n": value}
    return value


def _audit(seq: int) -> dict[str, Any]:
    return {
        "chain": "box",
        "seq": seq,
        "ts": "2026-01-01T00:00:00+00:00",
        "actor": "staff:u-1",
        "action": "sale.completed",
        "target": "sale:x",
        "severity": "INFO",
        "details": {},
        "prev_hash": "0" * 64,
        "hash": uuid.uuid4().hex * 2,
    }


def _duplicate_line(box: str, seq: int) -> dict[str, Any]:
    payload = sale_payload(seq)
    payload["lines"].append(dict(payload["lines"][0]))
    return envelope(box, seq, payload)


def _stolen_sale_id(box: str, seq: int) -> dict[str, Any]:
    other = enrol_box(T, B)
    taken = sale(other, 1)
    send(other, [taken])
    return sale(box, seq, sale_id=taken["payload"]["sale_id"])


def _nan_literal(box: str, seq: int) -> bytes:
    ev = sale(box, seq)
    ev["payload"]["lines"][0]["discounts"] = [
        {"policy_id": "p", "policy_version": "@NAN@", "kind": "amount", "amount": "0.00"}
    ]
    return json.dumps(ev).replace('"@NAN@"', "NaN").encode()


def _huge_receipt(box: str, seq: int) -> dict[str, Any]:
    return sale(box, seq, receipt_no=2**70)


POISON = {
    "duplicate line number": (_duplicate_line, "DUPLICATE_LINE_NO"),
    "sale id of another box": (_stolen_sale_id, "DOCUMENT_ID_CONFLICT"),
    "receipt number beyond 64 bits": (_huge_receipt, "MALFORMED_MESSAGE"),
    "payload nested 40 deep": (
        lambda box, seq: sale(box, seq, customer=_nested(40)),
        "MALFORMED_MESSAGE",
    ),
    "string NaN in money": (lambda box, seq: sale(box, seq, change="NaN"), "INVALID_MONEY"),
}


@pytest.mark.req("FR-303", "NFR-003", "NFR-005")
@pytest.mark.parametrize("case", sorted(POISON))
def test_a_poison_event_is_quarantined_and_the_rest_of_the_batch_applied(app, case: str):
    make, reason = POISON[case]
    box = enrol_box(T, B)
    first, poison, last = sale(box, 1), make(box, 2), sale(box, 3)
    ack = send(box, [first, poison, last])
    assert ack is not None, "a poison event must not leave the batch unacked"
    assert rejected(ack) == {2: reason}
    assert ack.acked_through == 3
    assert poison["event_id"] not in acked_ids(ack)
    assert sale_ids(box) == {first["payload"]["sale_id"], last["payload"]["sale_id"]}
    assert quarantined(box) == [reason]


@pytest.mark.req("FR-303", "NFR-005")
def test_non_finite_and_oversized_numbers_are_refused_per_event(app):
    box = enrol_box(T, B)
    first, last = sale(box, 1), sale(box, 4)
    huge_int = json.dumps(sale(box, 3)).replace('"receipt_no": 3', '"receipt_no": ' + "9" * 5000)
    events = [
        json.dumps(first),
        _nan_literal(box, 2).decode(),  # NaN literal where a number goes
        huge_int,  # an integer JSON itself cannot convert (5 000 digits)
        json.dumps(sale(box, 2**70)),  # a seq beyond 64 bits: no usable seq at all
        json.dumps(last),
    ]
    head = json.loads(raw_batch(box, [first]))
    head["events"] = []
    raw = json.dumps(head).replace('"events": []', '"events": [' + ", ".join(events) + "]")
    ack = send_raw(box, raw.encode())
    assert ack is not None
    assert [r["reason"] for r in ack.rejected] == ["MALFORMED_MESSAGE"] * 3
    assert rejected(ack) == {2: "MALFORMED_MESSAGE", 3: "MALFORMED_MESSAGE"}
    assert ack.acked_through == 4, "refused events with a usable seq consume it"
    assert sale_ids(box) == {first["payload"]["sale_id"], last["payload"]["sale_id"]}
    assert box_row(box).max_seq_seen == 4


@pytest.mark.req("FR-303", "NFR-005")
def test_hostile_messages_never_crash_the_handler(app):
    box = enrol_box(T, B)
    deep = b'{"v": 1, "events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for raw in (deep, b'{"v": 1, "batch_id": NaN}', b"[" * 50_000, b'"\\u0000"', b"1e999999"):
        assert send_raw(box, raw) is None
    assert set(quarantined(box)) == {"MALFORMED_MESSAGE"}
    assert send(box, [sale(box, 1)]).acked_through == 1


@pytest.mark.req("FR-303", "NFR-005")
def test_a_repeated_audit_seq_is_refused_not_a_crash(app):
    box = enrol_box(T, B)
    events = [
        envelope(box, 1, _audit(1), kind="audit.entry"),
        envelope(box, 2, _audit(1), kind="audit.entry"),  # the same chain seq again
        sale(box, 3),
    ]
    ack = send(box, events)
    assert ack is not None
    assert rejected(ack) == {2: "AUDIT_SEQ_CONFLICT"}
    assert ack.acked_through == 3


@pytest.mark.req("FR-303", "FR-802", "NFR-005")
def test_an_audit_entry_whose_hash_is_not_sha256_hex_is_refused(app, client):
    """A box audit row with a hash that is not 64 lowercase hex digits (here non-ASCII) is
    quarantined at ingest; before, it was stored and every integrity report of the tenant
    (and REP-O-10, which carries one) answered 500: hmac.compare_digest refuses non-ASCII."""
    box = enrol_box(T, B)
    forged = {**_audit(1), "hash": "é" * 64}
    bad_prev = {**_audit(1), "prev_hash": "Z" * 64}
    ack = send(
        box,
        [
            envelope(box, 1, forged, kind="audit.entry"),
            envelope(box, 2, bad_prev, kind="audit.entry"),
            sale(box, 3),
        ],
    )
    assert ack is not None
    assert set(rejected(ack)) == {1, 2}
    assert ack.acked_through == 3
    login(client, "owner")
    assert client.get("/api/v1/audit/integrity").status_code == 200


@pytest.mark.req("FR-303", "NFR-003")
def test_a_transient_database_error_is_retried_not_quarantined(app, hub_urls):
    """The connection dies inside the batch transaction: no ack, nothing written, nothing
    quarantined; the resend is applied exactly once."""
    box = enrol_box(T, B)
    events = [sale(box, 1), sale(box, 2)]

    def kill_my_connection() -> None:
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        admin = psycopg2.connect(hub_urls[0])
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.close()

    apply.INSIDE_TRANSACTION_HOOKS.append(kill_my_connection)
    try:
        with pytest.raises((OperationalError, InterfaceError)):
            send(box, events)
    finally:
        apply.INSIDE_TRANSACTION_HOOKS.remove(kill_my_connection)
        db.close()
    assert sale_ids(box) == set()
    assert quarantined(box) == []
    ack = send(box, events)
    assert (ack.acked_through, len(ack.accepted)) == (2, 2)
    assert len(sale_ids(box)) == 2


@pytest.mark.req("FR-303", "NFR-003")
def test_a_seq_far_beyond_the_high_water_mark_is_a_conflict_not_a_gap(app):
    box = enrol_box(T, B)
    far = sale(box, 20_000_000)
    ack = send(box, [far])
    assert rejected(ack) == {20_000_000: "SEQ_OUT_OF_RANGE"}
    assert (ack.acked_through, ack.missing_seqs) == (0, [])
    assert box_row(box).max_seq_seen == 0, "the high-water mark is not poisoned"
    ack = send(box, [sale(box, 1), sale(box, 2)])
    assert (ack.acked_through, ack.missing_seqs) == (2, [])
    assert quarantined(box) == ["SEQ_OUT_OF_RANGE"]


@pytest.mark.req("FR-303", "NFR-003")
def test_a_wide_legitimate_gap_is_reported_capped_and_fills(app):
    box = enrol_box(T, B)
    ack = send(box, [sale(box, 1), sale(box, 900_000)])  # e.g. a hub restored from backup
    assert ack.acked_through == 1
    assert ack.missing_seqs == list(range(2, 502))
    ack = send(box, [sale(box, s) for s in range(2, 200)])
    assert ack.acked_through == 199
    assert ack.missing_seqs[:2] == [200, 201]
    assert len(ack.missing_seqs) == 500


@pytest.mark.req("FR-303", "NFR-005")
def test_a_batch_stamped_by_an_absurd_box_clock_still_applies_its_sales(app):
    """sent_at in year 9999 made the skew estimate -7973 years and the late check overflow
    (a crash for every sale of the batch); an implausible clock reading is ignored."""
    box = enrol_box(T, B)
    body = json.loads(raw_batch(box, [sale(box, 1), sale(box, 2)]))
    body["sent_at"] = "9999-12-31T23:59:59+00:00"
    ack = send_raw(box, json.dumps(body).encode())
    assert ack is not None
    assert (ack.acked_through, ack.rejected) == (2, [])
    assert len(sale_ids(box)) == 2
