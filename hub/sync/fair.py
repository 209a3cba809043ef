"""Per-box fair queue of the ingest worker's batches (issue 15: bad input under load).

The worker used to hold every batch it took off the broker in one FIFO: a box that published
ten thousand messages put them all ahead of every other box's next batch, so one flooding
box (even one whose messages are dropped cheaply) delayed the others by its whole backlog.
Here each box has its own queue and the apply thread serves the boxes round-robin, one
message per box per round, in the order they first queued: a good box waits for at most one
message of each other box, however many a flooder has queued.

A box may hold at most `per_box` messages queued (a box has one batch in flight, or a small
window; a resend supersedes its older copy): past that `put` refuses the message and the
worker drops it unread, unacked, like a rate-limited one (the box's outbox is the truth: it
resends after its ack timeout). That bounds the worker's memory under a flood too.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
PER_BOX = 32  # messages one box may have queued at the worker (far above a box's window)


class FairQueue(Generic[T]):
    """Round-robin over boxes, FIFO within a box (thread-safe)."""

    def __init__(self, per_box: int = PER_BOX) -> None:
        self.per_box = per_box
        self._queues: dict[str, deque[T]] = {}
        self._ring: deque[str] = deque()  # boxes with something queued, in service order
        self._size = 0
        self._cond = threading.Condition()
        self.refused = 0  # messages refused because their box had `per_box` queued

    def put(self, box: str, item: T) -> int | None:
        """Queue `item` of `box`; return how many queued messages will be served before it,
        or None (not queued) when the box already has `per_box` messages waiting."""
        with self._cond:
            q = self._queues.get(box)
            if q is None:
                q = self._queues[box] = deque()
                self._ring.append(box)
            if len(q) >= self.per_box:
                self.refused += 1
                return None
            ahead = self._ahead(box, len(q))
            q.append(item)
            self._size += 1
            self._cond.notify()
            return ahead

    def _ahead(self, box: str, index: int) -> int:
        """Messages served before the one at `index` of `box`'s queue: `index` full rounds
        of every box, plus the boxes before it in the ring with one more message."""
        ahead = index
        before = True
        for other in self._ring:
            if other == box:
                before = False
                continue
            n = len(self._queues[other])
            ahead += min(n, index) + (1 if before and n > index else 0)
        return ahead

    def get(self, timeout: float) -> T | None:
        """The next message (round-robin over boxes), or None after `timeout` seconds."""
        with self._cond:
            if not self._size and not self._cond.wait_for(lambda: self._size > 0, timeout):
                return None
            box = self._ring.popleft()
            q = self._queues[box]
            item = q.popleft()
            self._size -= 1
            if q:
                self._ring.append(box)  # its next message waits for one round of the others
            else:
                del self._queues[box]
            return item

    def take(self, box: str, most: int) -> list[T]:
        """Up to `most` of `box`'s queued messages, oldest first, taken now out of turn (the
        worker applies a box's queued batches together with the one it is serving)."""
        with self._cond:
            q = self._queues.get(box)
            if not q or most <= 0:
                return []
            taken = [q.popleft() for _ in range(min(most, len(q)))]
            self._size -= len(taken)
            if not q:
                del self._queues[box]
                self._ring.remove(box)
            return taken

    def qsize(self) -> int:
        """Messages queued (all boxes)."""
        with self._cond:
            return self._size

    def queued(self, box: str) -> int:
        """Messages of `box` queued."""
        with self._cond:
            q = self._queues.get(box)
            return len(q) if q else 0

    def in_order(self) -> Iterator[T]:
        """A snapshot of every queued message in the order they will be served."""
        with self._cond:
            queues = [list(self._queues[b]) for b in self._ring]
        rounds = max((len(q) for q in queues), default=0)
        for i in range(rounds):
            for q in queues:
                if i < len(q):
                    yield q[i]
