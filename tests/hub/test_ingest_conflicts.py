"""Finding 1 (P0): only a repeated event id is a duplicate. A different event on an already
used (box, seq), or a known event id with other content, is a conflict: quarantined, raised
as a CRITICAL reconciliation item, reported in `rejected`, never acked as held."""

from __future__ import annotations

import json

import pytest

from hub.core.db import platform_tx
from hub.sync.models import Quarantine
from scripts.testkit.crafted import B, T
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import (
    acked_ids,
    box_row,
    event_ids_of_sales,
    items,
    quarantined,
    rejected,
    sale,
    sale_ids,
    send,
)

pytestmark = [pytest.mark.pg]


@pytest.mark.req("FR-303", "NFR-003", "NFR-005")
def test_forged_events_on_the_next_seqs_never_turn_the_real_sale_into_a_duplicate(app):
    box = enrol_box(T, B)
    send(box, [sale(box, 1)])
    forged = [sale(box, 2), sale(box, 3)]  # fresh ids on the box's next seqs
    assert send(box, forged).acked_through == 3
    real = [sale(box, 2), sale(box, 3)]  # the box's own sales on those seqs
    ack = send(box, real)
    assert acked_ids(ack).isdisjoint({e["event_id"] for e in real}), "acked a sale never stored"
    assert rejected(ack) == {2: "SEQ_CONFLICT", 3: "SEQ_CONFLICT"}
    assert not {e["payload"]["sale_id"] for e in real} & sale_ids(box)
    assert quarantined(box) == ["SEQ_CONFLICT", "SEQ_CONFLICT"]
    assert items(box) == [("SEQ_CONFLICT", "CRITICAL"), ("SEQ_CONFLICT", "CRITICAL")]
    with platform_tx():
        kept = {bytes(q.payload) for q in Quarantine.select().where(Quarantine.box_id == box)}
    assert all(any(e["payload"]["sale_id"].encode() in k for k in kept) for e in real)
    # the exact bytes, not wrapped in a bytea literal (issue 15 multi-row insert)
    assert {json.loads(k)["payload"]["sale_id"] for k in kept} == {
        e["payload"]["sale_id"] for e in real
    }
    again = send(box, real)  # the box resends: refused again, never a duplicate, never twice
    assert rejected(again) == {2: "SEQ_CONFLICT", 3: "SEQ_CONFLICT"}
    assert again.duplicates == []
    assert again.accepted == []
    assert len(quarantined(box)) == 2
    assert len(items(box)) == 2


@pytest.mark.req("FR-303", "NFR-005")
def test_a_fresh_event_id_replayed_on_a_used_seq_is_a_conflict_and_the_real_sale_stays(app):
    box = enrol_box(T, B)
    real = sale(box, 1)
    assert send(box, [real]).acked_through == 1
    forged = sale(box, 1)
    ack = send(box, [forged])
    assert forged["event_id"] not in acked_ids(ack)
    assert rejected(ack) == {1: "SEQ_CONFLICT"}
    assert sale_ids(box) == {real["payload"]["sale_id"]}
    assert items(box) == [("SEQ_CONFLICT", "CRITICAL")]
    again = send(box, [real])  # the real event is still recognised as held
    assert [str(e) for e in again.duplicates] == [real["event_id"]]
    assert again.acked_through == 1


@pytest.mark.req("FR-303", "NFR-005")
def test_an_event_id_of_another_box_or_with_other_content_is_not_a_duplicate(app):
    first, second = enrol_box(T, B), enrol_box(T, B)
    original = sale(first, 1)
    send(first, [original])
    stolen = {**sale(second, 1), "event_id": original["event_id"]}
    ack = send(second, [stolen])
    assert original["event_id"] not in acked_ids(ack)
    assert rejected(ack) == {1: "EVENT_ID_CONFLICT"}
    assert box_row(second).last_contiguous_seq == 0, "a conflict must not consume the seq"
    tampered = {**original, "payload": {**original["payload"], "total": "0.01"}}
    ack = send(first, [tampered])  # same id, same seq, other content
    assert rejected(ack) == {1: "EVENT_ID_CONFLICT"}
    assert ack.duplicates == []
    assert event_ids_of_sales(first) == {original["event_id"]}
    assert sorted(k for k, _s in items(first) + items(second)) == [
        "EVENT_ID_CONFLICT",
        "EVENT_ID_CONFLICT",
    ]


@pytest.mark.req("FR-303", "NFR-005")
def test_two_events_on_one_seq_in_one_batch_keep_the_first(app):
    box = enrol_box(T, B)
    a, b = sale(box, 1), sale(box, 1)
    ack = send(box, [a, b])
    assert [str(e) for e in ack.accepted] == [a["event_id"]]
    assert rejected(ack) == {1: "SEQ_CONFLICT"}
    assert sale_ids(box) == {a["payload"]["sale_id"]}
