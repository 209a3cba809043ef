"""An explicit partition of boxes over ingest workers (`CFPOS_INGEST_PARTITION=k/n`).

For a broker without MQTT 5 shared subscriptions (nats-server 2.9's MQTT interface, any
MQTT 3.1.1 broker): worker *k* of *n* subscribes to the per-box topics (events, req,
status) of exactly the enrolled boxes whose stable hash (CRC-32 of the box id, the same in
every process and on every host, unlike Python's salted `hash()`) modulo *n* is *k*. A box
belongs to one worker, so its batches are applied in arrival order by that worker alone;
the box row lock (`apply._locked`) stays the correctness backstop (a worker restarted with
another *n* while the old one still runs, an operator mistake).

The set follows enrolment and the other workers' presence (hub/sync/follower.py): the worker
lists the boxes every `refresh` seconds (`CFPOS_INGEST_PARTITION_REFRESH`, default 5) and
subscribes to the boxes it serves: those of its share, plus those of absent partitions the
takeover rule gives it (hub/sync/takeover.py), given back when their owner is live again.
The lowest live partition subscribes to the `+` filters instead, so a batch of a box that is
not enrolled is quarantined as UNKNOWN_BOX, and one of a box not listed yet is applied.
Changing *n* means stopping every worker and starting *n'* new ones (their client ids carry
`k` and `n`, so old sessions are not reused; workers of another *n* are ignored).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from hub.core.db import platform_tx
from hub.identity.models import Box
from posdomain import topics

DEFAULT_REFRESH = 5.0  # seconds between two listings of the enrolled boxes
_SPEC = re.compile(r"^(\d{1,3})/(\d{1,3})$")


def owner(box_id: str, count: int) -> int:
    """The partition (0 .. count-1) a box belongs to: CRC-32 of its id, stable everywhere."""
    return zlib.crc32(box_id.encode("utf-8")) % count


@dataclass(frozen=True)
class Partition:
    """Worker `index` of `count`."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 256 or not 0 <= self.index < self.count:
            raise ValueError(
                f"partition {self.index}/{self.count}: want k/n with 0 <= k < n <= 256"
            )

    @classmethod
    def parse(cls, spec: str) -> Partition:
        """`k/n`, e.g. `0/2` (ValueError otherwise)."""
        match = _SPEC.match(spec.strip())
        if match is None:
            raise ValueError(f"partition {spec!r}: want k/n, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    def owns(self, box_id: str) -> bool:
        """True if the box's batches, requests and heartbeats are this worker's."""
        return owner(box_id, self.count) == self.index

    def client_id(self, base: str) -> str:
        """The worker's MQTT client id: its own persistent session per partition."""
        return f"{base}-p{self.index}of{self.count}"


def box_filters(box_id: str) -> list[str]:
    """The topics a worker subscribes to for one box of its share."""
    return [topics.box_events(box_id), topics.box_request(box_id), topics.box_status(box_id)]


def enrolled_box_ids() -> list[str]:
    """Every box row's id, any tenant and status (a replaced box's late events still count)."""
    with platform_tx():
        return [b.box_id for b in Box.select(Box.box_id)]
