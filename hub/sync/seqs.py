"""A box's sync position (FR-303): the contiguous point and the gaps above it, from ranges.

The seqs the hub holds above `last_contiguous_seq` are read as islands of consecutive
numbers (`seq - row_number()`), at most `MAX_MISSING_REPORTED + 1` of them, so a wide gap
costs one index range scan and a few rows, never a Python set of millions of numbers (the
old cost of one forged seq 2e7: 1.9 s and 550 MB per batch). Missing seqs are listed from
the gaps between islands, capped.
"""

from __future__ import annotations

from typing import Any

from hub.core.db import db
from hub.core.models import utcnow
from hub.identity.models import Box

MAX_MISSING_REPORTED = 500

_ISLANDS = (
    "SELECT min(seq), max(seq) FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS g "
    "FROM ingested_events WHERE box_id = {p} AND seq > {p}) AS held "
    "GROUP BY g ORDER BY min(seq) LIMIT {p}"
)


def islands(
    box_id: str, above: int, limit: int = MAX_MISSING_REPORTED + 1
) -> list[tuple[int, int]]:
    """[(first, last)] runs of consecutive seqs the hub holds for the box above `above`."""
    sql = _ISLANDS.format(p=db.param)
    return [(int(a), int(b)) for a, b in db.execute_sql(sql, (box_id, above, limit)).fetchall()]


def position(
    contiguous: int, runs: list[tuple[int, int]], cap: int = MAX_MISSING_REPORTED
) -> tuple[int, list[int]]:
    """(new contiguous point, missing seqs below the highest held, at most `cap` of them)."""
    if runs and runs[0][0] == contiguous + 1:
        contiguous = runs[0][1]
        runs = runs[1:]
    missing: list[int] = []
    start = contiguous + 1
    for first, last in runs:
        missing.extend(range(start, min(first, start + cap - len(missing))))
        if len(missing) >= cap:
            break
        start = last + 1
    return contiguous, missing


def advance(box: Box, highest_consumed: int) -> list[int]:
    """Move the box's contiguous point over held seqs; return the missing seqs (capped)."""
    contiguous, missing = position(
        box.last_contiguous_seq, islands(box.box_id, box.last_contiguous_seq)
    )
    now = utcnow()
    highest = max(box.max_seq_seen, contiguous, highest_consumed)
    changes: dict[str, Any] = {"max_seq_seen": highest, "last_seen_at": now}
    if contiguous > box.last_contiguous_seq:
        changes.update(last_contiguous_seq=contiguous, last_acked_at=now)
    Box.update(**changes).where(Box.box_id == box.box_id).execute()
    box.last_contiguous_seq, box.max_seq_seen = contiguous, highest
    return missing
