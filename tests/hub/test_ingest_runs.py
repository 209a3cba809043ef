"""A run of one box's queued batches applied as one (hub/sync/runs.py, issue 15): one
transaction, each batch acked with its own events only, a refused event in its own batch's
ack, and anything short of a plain run applied one batch at a time as before."""

from __future__ import annotations

import json
from typing import Any

import psycopg2
import pytest

from hub.sync.runs import handle_run
from posdomain import topics
from posdomain.envelope import BatchAck
from tests.hub.conftest import enrol_box
from tests.hub.ingest_helpers import B, T, acked_ids, box_row, quarantined, raw_batch, sale
from tests.hub.ingest_helpers import rejected as rejected_of

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-303", "NFR-003")]


def _run(box: str, raws: list[bytes]) -> list[BatchAck | None]:
    acks = handle_run(topics.box_events(box), [(raw, None) for raw in raws])
    return [None if a is None else BatchAck.model_validate_json(a) for a in acks]


def _batch_id(raw: bytes) -> str:
    return str(json.loads(raw)["batch_id"])


def _ids(events: list[dict[str, Any]]) -> set[str]:
    return {e["event_id"] for e in events}


def _sale_xids(admin_dsn: str, box: str) -> set[str]:
    """The transaction ids that wrote the box's sales (as the superuser: no RLS)."""
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT xmin::text FROM sales WHERE box_id = %s", (box,))
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_a_run_is_one_transaction_and_each_batch_gets_its_own_ack(
    app: Any, hub_urls: tuple[str, str]
) -> None:
    box = enrol_box(T, B)
    events = [sale(box, s) for s in range(1, 10)]
    raws = [raw_batch(box, events[i : i + 3]) for i in range(0, 9, 3)]
    acks = _run(box, raws)
    for n, (raw, ack) in enumerate(zip(raws, acks, strict=True)):
        assert ack is not None
        assert str(ack.batch_id) == _batch_id(raw)
        assert acked_ids(ack) == _ids(events[3 * n : 3 * n + 3]), "its own events, no others"
        assert ack.acked_through == 9
        assert ack.missing_seqs == []
        assert ack.rejected == []
    assert len(_sale_xids(hub_urls[0], box)) == 1, "one transaction for the run"
    assert box_row(box).last_contiguous_seq == 9
    # the same run again: all duplicates, each in its own batch's ack
    again = _run(box, raws)
    for n, ack in enumerate(again):
        assert ack is not None
        assert ack.accepted == []
        assert {str(e) for e in ack.duplicates} == _ids(events[3 * n : 3 * n + 3])


def test_a_refused_event_is_in_its_own_batchs_ack_only(app: Any) -> None:
    box = enrol_box(T, B)
    first = [sale(box, 1), sale(box, 2)]
    bad = sale(box, 4, total="999.99")  # the lines do not add up to this
    second = [sale(box, 3), bad]
    acks = _run(box, [raw_batch(box, first), raw_batch(box, second)])
    assert acks[0] is not None
    assert acks[1] is not None
    assert acks[0].rejected == []
    assert acked_ids(acks[0]) == _ids(first)
    assert set(rejected_of(acks[1])) == {4}
    assert acked_ids(acks[1]) == {second[0]["event_id"]}
    assert acks[0].acked_through == acks[1].acked_through == 4, "a refused seq is consumed"


def test_a_batch_that_does_not_decode_breaks_the_run_into_single_batches(app: Any) -> None:
    box = enrol_box(T, B)
    good = [sale(box, 1), sale(box, 2)]
    later = [sale(box, 3)]
    acks = _run(box, [raw_batch(box, good), b"{not json", raw_batch(box, later)])
    assert acks[1] is None, "quarantined whole, as alone"
    assert acks[0] is not None
    assert acked_ids(acks[0]) == _ids(good)
    assert acks[2] is not None
    assert acked_ids(acks[2]) == _ids(later)
    assert acks[2].acked_through == 3
    assert "MALFORMED_MESSAGE" in quarantined(box)


def test_a_batch_of_another_box_in_the_run_is_applied_alone_and_refused(app: Any) -> None:
    box, other = enrol_box(T, B), enrol_box(T, B)
    mine = [sale(box, 1)]
    forged = raw_batch(other, [sale(other, 1)])  # on this box's topic: not its batch
    acks = _run(box, [raw_batch(box, mine), forged])
    assert acks[0] is not None
    assert acked_ids(acks[0]) == _ids(mine)
    assert acks[1] is None
    assert box_row(other).last_contiguous_seq == 0, "nothing of the forged batch stored"
