"""An explicit partition of boxes over ingest workers (`CFPOS_INGEST_PARTITION=k/n`).

For a broker without MQTT 5 shared subscriptions (nats-server 2.9's MQTT interface, any
MQTT 3.1.1 broker): worker *k* of *n* subscribes to the per-box topics (events, req,
status) of exactly the enrolled boxes whose stable hash (CRC-32 of the box id, the same in
every process and on every host, unlike Python's salted `hash()`) modulo *n* is *k*. A box
belongs to one worker, so its batches are applied in arrival order by that worker alone;
the box row lock (`apply._locked`) stays the correctness backstop (a worker restarted with
another *n* while the old one still runs, an operator mistake).

The set follows enrolment: the worker lists the boxes every `refresh` seconds
(`CFPOS_INGEST_PARTITION_REFRESH`, default 5) and subscribes to the new ones of its share
(and unsubscribes from boxes gone from the table), so a box enrolled after the worker
started is served within one refresh plus its ack timeout (a batch it sent before the
subscription existed reached no subscriber: unacked, resent). Messages of box ids that are
not enrolled reach no worker (the broker's ACL refuses them anyway; with `+` filters they
were quarantined as UNKNOWN_BOX).

Trade-offs (docs/scaling.md section 1): box affinity (no lock contention between workers)
against no automatic rebalancing: while worker *k* is down its boxes wait (their batches
queue in its persistent session, or are resent) and the others carry on; changing *n*
means stopping every worker and starting *n'* new ones (their client ids carry `k` and `n`,
so old sessions are not reused).
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from hub.core.db import close_connection, db, platform_tx
from hub.identity.models import Box
from posdomain import topics
from posdomain.obs import log_event

log = logging.getLogger(__name__)
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


class Subscriber(Protocol):
    """What the follower needs of the worker's paho client."""

    def is_connected(self) -> bool: ...

    def subscribe(self, topic: list[tuple[str, int]]) -> object: ...

    def unsubscribe(self, topic: list[str]) -> object: ...


class PartitionFollower:
    """The worker's share of the enrolled boxes, kept up to date on its own thread.

    The worker subscribes to `filters()` on every connect; between connects `refresh()`
    subscribes to the boxes new in the share at once. The set is updated before the client
    is told, so a connect racing a refresh subscribes the new boxes either way."""

    def __init__(
        self,
        partition: Partition,
        client: Subscriber,
        refresh: float = DEFAULT_REFRESH,
        listing: Callable[[], Iterable[str]] = enrolled_box_ids,
    ) -> None:
        self.partition = partition
        self.client = client
        self.every = refresh
        self.listing = listing
        self.boxes: frozenset[str] = frozenset()
        self.refreshes = 0  # completed listings (tests wait on it, not on the clock)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def filters(self) -> list[str]:
        """Every topic filter of the share now (empty before the first listing)."""
        with self._lock:
            return [f for b in sorted(self.boxes) for f in box_filters(b)]

    def refresh(self) -> tuple[set[str], set[str]]:
        """List the boxes; subscribe to those new in the share, unsubscribe from those gone.
        Returns (added, removed)."""
        share = frozenset(b for b in self.listing() if self.partition.owns(b))
        with self._lock:
            added, removed = set(share - self.boxes), set(self.boxes - share)
            self.boxes = share
        if added or removed:  # logged first: its SUBACK ("ingest subscribed") comes after
            log_event(
                log,
                "ingest partition refreshed",
                partition=f"{self.partition.index}/{self.partition.count}",
                boxes=len(share),
                added=len(added),
                removed=len(removed),
            )
        if self.client.is_connected():
            if added:
                self.client.subscribe([(f, 1) for b in sorted(added) for f in box_filters(b)])
            if removed:
                self.client.unsubscribe([f for b in sorted(removed) for f in box_filters(b)])
        self.refreshes += 1
        return added, removed

    def _refresh_safely(self) -> None:
        try:
            db.connect(reuse_if_open=True)
            self.refresh()
        except Exception as err:  # noqa: BLE001 - database away: the share stays, retried
            log_event(log, "ingest partition not refreshed", logging.WARNING, error=repr(err)[:300])
            close_connection()

    def start(self) -> None:
        """List the share once now (before the first connect), then every `refresh` seconds."""
        self._refresh_safely()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ingest-partition", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self.every):
            self._refresh_safely()
        close_connection()

    def stop(self) -> None:
        """End the refresh thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
