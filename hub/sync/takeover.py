"""Partition takeover: which live worker serves a box whose partition's worker is gone.

Pure policy for `CFPOS_INGEST_PARTITION=k/n` (hub/sync/partition.py). Every partitioned
worker keeps a retained status (`online`, its `partition`; an `offline` last will the broker
publishes when it dies, cleared when it stops) and sends a beat every partition refresh on
`topics.hub_ingest_beat`; each worker reads the others' and derives the same **live set** of
partitions from them:

* a partition is **absent** once the latest word of every worker that claimed it says so
  (offline or cleared), or none of them beat for `stale` seconds (a half-open link the
  broker has not noticed yet), or nobody ever claimed it and this worker has listened for
  `stale` seconds (an index nobody runs); every other partition is **live**, this worker's
  own always (a worker just started presumes the others alive until it heard them);
* a box is served by its home partition (CRC-32 of its id mod n) while that is live; when it
  is absent, by the live partition with the highest rendezvous weight CRC-32("box#k") — so
  an absent worker's boxes spread over all survivors, and each moves back to its home as
  soon as the owner is live again (nothing else moves);
* the lowest live partition is the **catch-all**: it subscribes to the `+` filters instead of
  per-box topics, so a batch of a box that is not enrolled (or not listed yet) reaches a
  worker and is refused there with UNKNOWN_BOX (quarantined, never stored, never acked).

Two workers can disagree for a moment (one has heard a status the other has not): both may
serve a box for a refresh or so. That is safe by construction, not by timing: the batch
transaction locks the box row and re-reads its sequence (`apply._locked`), so the second
worker to apply a batch finds its events held and acks them as duplicates; per-box order and
exactly-once never depend on a single subscriber (tests/hub/test_ingest_takeover.py).
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from hub.sync.partition import Partition, owner
from posdomain.envelope import IngestStatus

DEFAULT_STALE = 15.0  # seconds without a beat after which a partitioned worker is gone


def weight(box_id: str, partition: int) -> int:
    """The rendezvous weight of a partition for a box (stable everywhere, like `owner`)."""
    return zlib.crc32(f"{box_id}#{partition}".encode())


def server_of(box_id: str, count: int, live: frozenset[int]) -> int:
    """The partition that serves a box: its home while live, else the live one of highest
    weight (ties: the higher index); the home if nothing is live (nobody serves then)."""
    home = owner(box_id, count)
    if home in live or not live:
        return home
    return max(live, key=lambda k: (weight(box_id, k), k))


@dataclass
class Peer:
    """What this worker last heard of another partitioned worker."""

    partition: int
    online: bool
    seen: float  # monotonic clock of its latest status or beat


class Liveness:
    """The other workers' statuses and beats, turned into the live set of partitions."""

    def __init__(
        self,
        me: Partition,
        worker_id: str,
        stale: float = DEFAULT_STALE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.me = me
        self.worker_id = worker_id  # this worker's topic segment: its own status is skipped
        self.stale = stale
        self.clock = clock
        self.since = clock()  # listening since: the grace for partitions never heard of
        self._peers: dict[str, Peer] = {}
        self._lock = threading.Lock()

    def note(self, worker: str, status: IngestStatus | None) -> bool:
        """A worker's retained status (None: cleared, it left); True if its presence changed."""
        if worker == self.worker_id:
            return False
        now = self.clock()
        with self._lock:
            before = self._peers.get(worker)
            if status is None:
                if before is None:
                    return False
                before.online = False
                return True
            partition = self._index(status.partition)
            if partition is None:
                return False
            self._peers[worker] = Peer(partition, status.online, now)
            return before is None or before.online != status.online

    def beat(self, worker: str, status: IngestStatus) -> bool:
        """A worker's beat: it is alive now; True if it was not counted live before."""
        if worker == self.worker_id or not status.online:
            return False
        partition = self._index(status.partition)
        if partition is None:
            return False
        now = self.clock()
        with self._lock:
            before = self._peers.get(worker)
            self._peers[worker] = Peer(partition, True, now)
            return before is None or not before.online or now - before.seen >= self.stale

    def _index(self, spec: str | None) -> int | None:
        """The partition index of a status of the same partitioning (None otherwise)."""
        if spec is None:
            return None
        try:
            other = Partition.parse(spec)
        except ValueError:  # "5/3": not a partition any worker can run
            return None
        return other.index if other.count == self.me.count else None

    def live(self) -> frozenset[int]:
        """The partitions served by a live worker now, by the rules of the module docstring."""
        now = self.clock()
        heard: dict[int, bool] = {}
        with self._lock:
            for peer in self._peers.values():
                alive = peer.online and now - peer.seen < self.stale
                heard[peer.partition] = heard.get(peer.partition, False) or alive
        grace = now - self.since < self.stale
        return frozenset(
            k for k in range(self.me.count) if k == self.me.index or heard.get(k, grace)
        )

    def deaf_until_now(self) -> None:
        """The link is back: nothing heard while it was down counts as silence, and the
        retained statuses replayed now are awaited (`stale` seconds of grace again)."""
        now = self.clock()
        with self._lock:
            for peer in self._peers.values():
                peer.seen = max(peer.seen, now)
            self.since = now
