"""Per-box flood guard of the ingest worker (issue 15: bad input under load).

A box that sends malformed or forged messages costs the hub a committed database write each
(the message is quarantined whole with its reason), so a flood from one box would slow every
other box's ingest. Each box therefore gets a budget of *strikes*, a token bucket per box in
the worker's memory: every message of that box the hub quarantines whole (unparseable, not
a batch, for another box, from an unknown or retired box, internal failure) takes one
strike; the bucket refills at `REFILL_PER_S` strikes per second up to `BURST`. A well-formed
batch whose events are refused takes none: it is answered like any batch (one transaction,
one ack, the box waits for it), and the outside probe expects every such answer.

While a box's bucket is empty its messages are dropped **before they are decoded**: nothing
is written, nothing is acked, so nothing is lost — a real box keeps every event in its
outbox and sends it again after its ack timeout; a flooding box's garbage is only counted.
The first drop of each penalty and the count at its end are logged (`ingest flood
limited`, `ingest flood ended`) and counted in the `cfpos_ingest_batches_total{outcome=
"rate_limited"}` metric. Good batches take no strike, so a healthy box is never limited; the
limit is per worker process (several workers: each holds its own buckets).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from posdomain.obs import log_event

log = logging.getLogger(__name__)
BURST = 50.0  # strikes a box may take at once (a healthy box takes none)
REFILL_PER_S = 2.0  # strikes given back per second: a flood costs at most this many writes/s


@dataclass
class _Bucket:
    tokens: float
    at: float
    dropped: int = 0


class FloodGuard:
    """Strike budgets per box (thread-safe: paho calls back on its own thread)."""

    def __init__(
        self,
        burst: float = BURST,
        refill_per_s: float = REFILL_PER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.refill, self.clock = burst, refill_per_s, clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, box_id: str, now: float) -> _Bucket:
        bucket = self._buckets.get(box_id)
        if bucket is None:
            bucket = self._buckets[box_id] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.refill)
            bucket.at = now
        return bucket

    def allow(self, box_id: str | None) -> bool:
        """Whether to process a message of `box_id` now (False: drop it undecoded)."""
        if box_id is None:
            return True  # not a box topic: quarantined as such by the caller
        with self._lock:
            bucket = self._bucket(box_id, self.clock())
            if bucket.tokens >= 1:
                if bucket.dropped:
                    log_event(log, "ingest flood ended", box_id=box_id, dropped=bucket.dropped)
                    bucket.dropped = 0
                return True
            bucket.dropped += 1
            first = bucket.dropped == 1
        if first:
            log_event(
                log,
                "ingest flood limited: messages of this box are dropped unread until its "
                "budget refills (nothing acked, nothing lost)",
                logging.WARNING,
                box_id=box_id,
            )
        return False

    def strike(self, box_id: str | None) -> None:
        """Take one strike from `box_id` (a quarantined message, a batch with a refusal)."""
        if box_id is None:
            return
        with self._lock:
            bucket = self._bucket(box_id, self.clock())
            bucket.tokens = max(0.0, bucket.tokens - 1)

    def dropped(self, box_id: str) -> int:
        """Messages of `box_id` dropped in its current penalty (0 when not limited)."""
        with self._lock:
            bucket = self._buckets.get(box_id)
            return bucket.dropped if bucket else 0
