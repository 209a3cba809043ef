"""A box batch takes as many events as fit the message limit (issue 15: halving sent 12 of
the 21 thirty-line sales that fit, so every batch paid the hub's fixed cost for few sales)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from posdomain.envelope import MAX_MESSAGE_BYTES, EventBatch, encode, fitting_prefix
from scripts.testkit.crafted import realistic_sale


def _size(events: Sequence[dict[str, object]]) -> int:
    batch = EventBatch.model_validate(
        {
            "batch_id": str(uuid.uuid4()),
            "box_id": "box-1",
            "sent_at": datetime.now(UTC).isoformat(),
            "events": list(events),
        }
    )
    return len(encode(batch))


def _event(seq: int, lines: int) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": "box-1",
        "tenant_id": "t-1",
        "branch_id": "b-1",
        "seq": seq,
        "type": "sale.completed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": uuid.uuid4().hex,
        "payload": realistic_sale(seq, lines),
    }


@pytest.mark.req("NFR-003")
def test_thirty_line_sales_fill_the_message_not_half_of_it() -> None:
    events = [_event(s, 30) for s in range(1, 201)]
    n = fitting_prefix(events, _size)
    assert _size(events[:n]) <= MAX_MESSAGE_BYTES < _size(events[: n + 1])
    assert n >= 20  # 30-line sales are about 12 KB each


@pytest.mark.req("NFR-003")
@pytest.mark.parametrize("seed", range(5))
def test_the_prefix_is_the_longest_that_fits(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.randint(1, 40_000) for _ in range(rng.randint(1, 200))]
    n = fitting_prefix(sizes, sum)
    longest = max(
        [k for k in range(1, len(sizes) + 1) if sum(sizes[:k]) <= MAX_MESSAGE_BYTES] or [1]
    )
    assert n == longest


@pytest.mark.req("NFR-003")
def test_one_event_too_large_still_goes_alone() -> None:
    assert fitting_prefix([MAX_MESSAGE_BYTES * 2, 1], sum) == 1
    assert fitting_prefix([], sum) == 0
