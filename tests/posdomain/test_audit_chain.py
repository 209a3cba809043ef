"""Audit chain (FR-802): edits, deletions, reorders and severity downgrades are detected."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posdomain.audit_chain import (
    GENESIS_HASH,
    AuditRecord,
    Severity,
    entry_hash,
    next_record,
    severity_may_change,
    sign_checkpoint,
    verify_chain,
)

CHAIN = "box:b1"
FIELDS = ["chain", "seq", "ts", "actor", "action", "target", "severity", "details", "prev_hash"]


def build(
    n: int, severities: list[Severity] | None = None, subject: str | None = None
) -> list[AuditRecord]:
    """A valid chain of n records."""
    records: list[AuditRecord] = []
    head = None
    for i in range(n):
        sev = severities[i] if severities else Severity.INFO
        details: dict[str, Any] = {"i": i}
        if subject:
            details["subject"] = subject
        head = next_record(
            chain=CHAIN,
            head=head,
            ts=f"2024-05-01T12:00:{i:02d}+00:00",
            actor=f"user:{i % 3}",
            action="sale.completed",
            target=f"sale:{i}",
            severity=sev,
            details=details,
        )
        records.append(head)
    return records


def mutate(rec: AuditRecord, field: str) -> AuditRecord:
    """Change one field to a different value (hash left as stored)."""
    value = getattr(rec, field)
    if field == "seq":
        new: Any = value + 100
    elif field == "details":
        new = {**value, "tampered": True}
    elif field == "severity":
        new = "CRITICAL" if value != "CRITICAL" else "WARN"
    else:
        new = value + "x"
    return dataclasses.replace(rec, **{field: new})


def kinds_at(report: Any, seq: int) -> set[str]:
    return {p["kind"] for p in report.problems if p["seq"] == seq}


@pytest.mark.req("FR-802")
def test_valid_chain_verifies() -> None:
    records = build(10)
    report = verify_chain(CHAIN, records)
    assert report.ok
    assert report.entries == 10
    assert report.head_hash == records[-1].hash
    assert report.first_bad_seq is None
    assert records[0].prev_hash == GENESIS_HASH
    assert [r.seq for r in records] == list(range(1, 11))
    assert all(r.prev_hash == p.hash for p, r in itertools.pairwise(records))
    assert report.to_dict() == {
        "chain": CHAIN, "ok": True, "entries": 10, "head_hash": records[-1].hash,
        "first_bad_seq": None, "problems": [],
    }  # fmt: skip


def test_empty_chain_is_ok_with_genesis_head() -> None:
    report = verify_chain(CHAIN, [])
    assert report.ok
    assert report.head_hash == GENESIS_HASH


def test_hash_is_sha256_of_body() -> None:
    rec = build(1)[0]
    assert rec.hash == entry_hash(rec.body())
    assert len(rec.hash) == 64


@pytest.mark.req("FR-802")
@pytest.mark.parametrize("field", [f for f in FIELDS if f not in ("seq", "prev_hash")])
@pytest.mark.parametrize("index", [0, 3, 7])
def test_edit_any_field_reports_hash_at_that_seq(field: str, index: int) -> None:
    records = build(8)
    records[index] = mutate(records[index], field)
    report = verify_chain(CHAIN, records)
    assert not report.ok
    assert "hash" in kinds_at(report, index + 1)
    assert report.first_bad_seq == index + 1


@pytest.mark.req("FR-802")
def test_edit_prev_hash_reports_link_and_hash() -> None:
    records = build(5)
    records[2] = mutate(records[2], "prev_hash")
    report = verify_chain(CHAIN, records)
    assert {"link", "hash"} <= kinds_at(report, 3)


@pytest.mark.req("FR-802")
def test_recomputed_hash_after_edit_breaks_the_next_link() -> None:
    records = build(5)
    forged = dataclasses.replace(records[1], actor="user:evil")
    records[1] = dataclasses.replace(forged, hash=entry_hash(forged.body()))
    report = verify_chain(CHAIN, records)
    assert kinds_at(report, 2) == set()
    assert "link" in kinds_at(report, 3)


@pytest.mark.req("FR-802")
@pytest.mark.parametrize("index", [0, 2, 4])
def test_deleted_record_reports_gap_and_link(index: int) -> None:
    records = build(6)
    del records[index]
    report = verify_chain(CHAIN, records)
    assert not report.ok
    assert {"gap", "link"} <= kinds_at(report, index + 2)
    assert report.first_bad_seq == index + 2


@pytest.mark.req("FR-802")
def test_deleted_tail_is_caught_by_signed_checkpoint() -> None:
    key = b"k" * 32
    records = build(6)
    anchor = sign_checkpoint(key, CHAIN, 6, records[-1].hash)
    report = verify_chain(CHAIN, records[:-1])
    assert report.ok  # the chain alone cannot see a truncated tail ...
    assert (
        sign_checkpoint(key, CHAIN, report.entries, report.head_hash) != anchor
    )  # ... the anchor does


@pytest.mark.req("FR-802")
def test_reorder_detected() -> None:
    records = build(6)
    records[2], records[3] = records[3], records[2]
    report = verify_chain(CHAIN, records)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert {"gap", "link"} <= kinds_at(report, 4)


@pytest.mark.req("FR-802")
def test_severity_downgrade_about_same_subject_flagged() -> None:
    sevs = [Severity.INFO, Severity.CRITICAL, Severity.WARN, Severity.CRITICAL]
    records = build(4, sevs, subject="incident:7")
    report = verify_chain(CHAIN, records)
    assert not report.ok
    assert kinds_at(report, 3) == {"severity downgrade"}
    assert report.problems[0]["message"] == ("severity of incident:7 lowered from CRITICAL to WARN")
    assert kinds_at(report, 4) == set()


def test_severity_without_subject_may_vary() -> None:
    records = build(3, [Severity.CRITICAL, Severity.INFO, Severity.WARN])
    assert verify_chain(CHAIN, records).ok


def test_unknown_severity_flagged() -> None:
    body = build(1)[0].body() | {"severity": "DEBUG"}
    rec = AuditRecord(**body, hash=entry_hash(body))
    report = verify_chain(CHAIN, [rec])
    assert kinds_at(report, 1) == {"severity"}


@pytest.mark.req("FR-802")
@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [("INFO", "INFO", True), ("INFO", "WARN", True), ("WARN", "CRITICAL", True),
     ("CRITICAL", "WARN", False), ("WARN", "INFO", False), ("critical", "info", False)],
)  # fmt: skip
def test_severity_may_change(old: str, new: str, allowed: bool) -> None:
    assert severity_may_change(old, new) is allowed


def test_severity_parse_rejects_unknown() -> None:
    with pytest.raises(KeyError):
        Severity.parse("LOW")


@pytest.mark.req("FR-802")
def test_sign_checkpoint_stable_and_key_dependent() -> None:
    head = build(3)[-1].hash
    a = sign_checkpoint(b"key-1", CHAIN, 3, head)
    assert a == sign_checkpoint(b"key-1", CHAIN, 3, head)
    assert len(a) == 64
    assert a != sign_checkpoint(b"key-2", CHAIN, 3, head)
    assert a != sign_checkpoint(b"key-1", CHAIN, 4, head)
    assert a != sign_checkpoint(b"key-1", "hub", 3, head)
    assert a != sign_checkpoint(b"key-1", CHAIN, 3, GENESIS_HASH)


@pytest.mark.req("FR-802")
@given(
    st.integers(min_value=1, max_value=8),
    st.data(),
)
def test_any_single_field_mutation_is_detected(n: int, data: st.DataObject) -> None:
    records = build(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from([*FIELDS, "hash"]))
    if field == "hash":
        records[index] = dataclasses.replace(records[index], hash="f" * 64)
    else:
        records[index] = mutate(records[index], field)
    report = verify_chain(CHAIN, records)
    assert not report.ok
    assert report.first_bad_seq is not None


@pytest.mark.req("FR-802", "NFR-005")
def test_a_non_ascii_hash_is_reported_edited_not_a_crash() -> None:
    """A stored hash is data: one that is not ASCII (a forged row) is a broken hash in the
    report, never a TypeError out of hmac.compare_digest."""
    good = AuditRecord(
        chain="box", seq=1, ts="2026-01-01T00:00:00+00:00", actor="a", action="x", target="t",
        severity="INFO", details={}, prev_hash=GENESIS_HASH, hash="",
    )  # fmt: skip
    forged = dataclasses.replace(good, hash="é" * 64)
    report = verify_chain("box", [forged])
    assert not report.ok
    assert report.first_bad_seq == 1


# Mutation survivors (docs/mutation.md): what the integrity report says, exactly.


@pytest.mark.req("FR-802")
def test_each_problem_is_reported_with_its_message() -> None:
    records = build(6)
    del records[2]  # seq 3 missing: entry 4 follows 2
    records[3] = mutate(records[3], "actor")  # seq 5 edited
    report = verify_chain(CHAIN, records)
    assert report.ok is False
    assert report.to_dict()["ok"] is False
    assert report.problems == [
        {"seq": 4, "kind": "gap", "message": "expected seq 3, found 4"},
        {"seq": 4, "kind": "link", "message": "prev_hash does not match the previous entry"},
        {"seq": 5, "kind": "hash", "message": "entry content does not match its hash (edited)"},
    ]  # (the stored hash still links entry 6)
    body = build(1)[0].body() | {"severity": "DEBUG"}
    odd = verify_chain(CHAIN, [AuditRecord(**body, hash=entry_hash(body))])
    assert odd.problems == [{"seq": 1, "kind": "severity", "message": "unknown severity 'DEBUG'"}]


@pytest.mark.req("FR-802")
@pytest.mark.parametrize("details", [None, ["subject", "x"], "subject"])
def test_details_that_are_not_an_object_name_no_subject(details: Any) -> None:
    first = build(1, [Severity.CRITICAL], subject="incident:1")[0]
    body = {**build(2)[1].body(), "details": details, "prev_hash": first.hash}
    body["severity"] = "INFO"
    second = AuditRecord(**body, hash=entry_hash(body))
    report = verify_chain(CHAIN, [first, second])
    assert report.ok is True
    assert report.problems == []
