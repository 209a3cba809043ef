"""The partitioned worker's set of boxes, kept up to date on its own thread.

`CFPOS_INGEST_PARTITION=k/n` (hub/sync/partition.py): every `refresh` seconds the follower
lists the enrolled boxes, works out which of them this worker serves now (its share, plus
the boxes of absent partitions the takeover rule gives it: hub/sync/takeover.py) and
subscribes to the new ones and unsubscribes from those gone (given back to their owner,
or no longer enrolled). It also beats (`topics.hub_ingest_beat`) and hears the other
workers' statuses and beats; a status that changes who is present wakes it at once, so a
SIGKILLed worker's boxes are taken over as soon as the broker publishes its last will.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from pydantic import ValidationError

from hub.core.db import close_connection, db
from hub.sync.partition import DEFAULT_REFRESH, Partition, box_filters, enrolled_box_ids, owner
from hub.sync.takeover import DEFAULT_STALE, Liveness, server_of
from posdomain import topics
from posdomain.envelope import IngestStatus, encode
from posdomain.obs import log_event

log = logging.getLogger(__name__)
CATCH_ALL = [topics.ALL_BOX_EVENTS, topics.ALL_BOX_REQUESTS, topics.ALL_BOX_STATUS]
PRESENCE = [topics.ALL_HUB_INGEST_STATUS, topics.ALL_HUB_INGEST_BEATS]


class Subscriber(Protocol):
    """What the follower needs of the worker's paho client."""

    def is_connected(self) -> bool: ...

    def subscribe(self, topic: list[tuple[str, int]]) -> object: ...

    def unsubscribe(self, topic: list[str]) -> object: ...

    def publish(self, topic: str, payload: bytes, qos: int) -> object: ...


def spec(partition: Partition) -> str:
    """`k/n` as in CFPOS_INGEST_PARTITION and the workers' statuses."""
    return f"{partition.index}/{partition.count}"


class PartitionFollower:
    """The boxes this worker serves and the topic filters that bring their messages.

    The worker subscribes to `filters()` on every connect; between connects `refresh()` and
    `rebalance()` subscribe to what is new at once (before unsubscribing what went, so a box
    moving between modes is never without a subscription of this worker). The set is
    updated before the client is told, so a connect racing a refresh subscribes either way."""

    def __init__(
        self,
        partition: Partition,
        client: Subscriber,
        refresh: float = DEFAULT_REFRESH,
        listing: Callable[[], Iterable[str]] = enrolled_box_ids,
        worker_id: str = "cfpos-hub-ingest",
        stale: float = DEFAULT_STALE,
    ) -> None:
        self.partition = partition
        self.client = client
        self.every = refresh
        self.listing = listing
        self.liveness = Liveness(partition, topics.worker_segment(worker_id), stale)
        self.enrolled: frozenset[str] = frozenset()  # every enrolled box at the last listing
        self.boxes: frozenset[str] = frozenset()  # the boxes this worker serves now
        self.catch_all = False  # the lowest live partition: `+` filters, unknown boxes too
        self.live: frozenset[int] = frozenset({partition.index})
        self.refreshes = 0  # completed listings (tests wait on it, not on the clock)
        self.beating = False  # set by the worker once it is subscribed (online)
        self._beat_topic = topics.hub_ingest_beat(worker_id)
        self._beat = encode(IngestStatus(worker=worker_id, online=True, partition=spec(partition)))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _box_filters(self, boxes: frozenset[str], catch_all: bool) -> list[str]:
        return list(CATCH_ALL) if catch_all else [f for b in sorted(boxes) for f in box_filters(b)]

    def filters(self) -> list[str]:
        """Every topic filter now: the other workers' presence, then the boxes served."""
        with self._lock:
            return PRESENCE + self._box_filters(self.boxes, self.catch_all)

    def leftovers(self) -> list[str]:
        """Filters a persistent session of an earlier run of this worker may still hold and
        this worker does not want now (boxes it had taken over, the `+` filters of a
        catch-all): unsubscribed once at the first connect, so no other box's traffic keeps
        coming for good (it would only be dropped, but it costs the link)."""
        with self._lock:
            wanted = set(self._box_filters(self.boxes, self.catch_all))
            every = CATCH_ALL + [f for b in sorted(self.enrolled) for f in box_filters(b)]
        return [f for f in every if f not in wanted]

    def accepts(self, box_id: str | None) -> bool:
        """True if a message of this box is this worker's to handle now (a box served, or,
        on the catch-all, a box not enrolled at the last listing: applied or refused as
        UNKNOWN_BOX by the database's answer). Others (the `+` filters bring every box's,
        a persistent session may keep a box given back) are dropped unacked."""
        if box_id is None:
            return self.catch_all
        return box_id in self.boxes or (self.catch_all and box_id not in self.enrolled)

    def heard(self, topic: str, payload: bytes) -> bool:
        """Take in another worker's status or beat (network thread); False for other topics."""
        status_of = topics.hub_worker_from_topic(topic)
        beat_of = topics.hub_worker_from_topic(topic, "beat")
        if status_of is None and beat_of is None:
            return False
        try:
            status = IngestStatus.model_validate_json(bytes(payload)) if payload else None
        except ValidationError as err:
            log_event(log, "ingest worker status unreadable", logging.WARNING, error=str(err)[:200])
            return True
        if status_of is not None:
            changed = self.liveness.note(status_of, status)
        else:
            changed = status is not None and self.liveness.beat(beat_of or "", status)
        if changed:
            online = status is not None and status.online
            log_event(log, "ingest worker presence", worker=status_of or beat_of, online=online)
            self._wake.set()
        return True

    def connected(self) -> None:
        """The link is back: what was not heard while it was down is no evidence of absence."""
        self.liveness.deaf_until_now()

    def refresh(self) -> tuple[set[str], set[str]]:
        """List the enrolled boxes and rebalance; returns (added, removed) boxes served."""
        self.enrolled = frozenset(self.listing())
        return self.rebalance()

    def rebalance(self) -> tuple[set[str], set[str]]:
        """Work out the boxes served now from the live set; subscribe to what is new, then
        unsubscribe from what went. Returns (added, removed) boxes served."""
        live, me, count = self.liveness.live(), self.partition.index, self.partition.count
        served = frozenset(b for b in self.enrolled if server_of(b, count, live) == me)
        catch_all = min(live) == me
        with self._lock:
            old = set(self._box_filters(self.boxes, self.catch_all))
            added, removed = set(served - self.boxes), set(self.boxes - served)
            moved = live != self.live or catch_all != self.catch_all
            self.boxes, self.catch_all, self.live = served, catch_all, live
            new = set(self._box_filters(served, catch_all))
        subscribe, unsubscribe = sorted(new - old), sorted(old - new)
        if added or removed or moved:  # logged first: its SUBACK ("ingest subscribed") after
            log_event(
                log,
                "ingest partition refreshed",
                partition=spec(self.partition),
                boxes=len(served),
                taken_over=sum(owner(b, count) != me for b in served),
                added=len(added),
                removed=len(removed),
                live=sorted(live),
                catch_all=catch_all,
                filters_added=len(subscribe),
            )
        if self.client.is_connected():
            if subscribe:
                self.client.subscribe([(f, 1) for f in subscribe])
            if unsubscribe:
                self.client.unsubscribe(unsubscribe)
        self.refreshes += 1
        return added, removed

    def _safely(self, step: Callable[[], object]) -> None:
        try:
            db.connect(reuse_if_open=True)
            step()
        except Exception as err:  # noqa: BLE001 - database away: the set stays, retried
            log_event(log, "ingest partition not refreshed", logging.WARNING, error=repr(err)[:300])
            close_connection()

    def start(self) -> None:
        """List the share once now (before the first connect), then every `refresh` seconds."""
        self._safely(self.refresh)
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ingest-partition", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        due = time.monotonic() + self.every
        while not self._stopping.is_set():
            woken = self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            if self._stopping.is_set():
                break
            if not self.client.is_connected():  # deaf: no word is no evidence, keep the set
                due = time.monotonic() + self.every
                continue
            if woken and time.monotonic() < due:  # a worker came or went: move boxes now
                self._safely(self.rebalance)
                continue
            self._safely(self.refresh)
            if self.beating:
                self.client.publish(self._beat_topic, self._beat, qos=0)
            due = time.monotonic() + self.every
        close_connection()

    def stop(self) -> None:
        """End the refresh thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
