"""Flow control between box and hub (docs/sync-protocol.md "Flow control"), pure policy.

Two rules, shared by the box's sync agent and the simulated boxes of the herd bench:

* **Reconnect with full jitter.** A box that lost the broker waits a random time before
  each connection attempt (`reconnect_wait`), so a region's boxes coming back after an
  outage do not reconnect in lockstep; the window stays inside NFR-003 (link back -> first
  ack within 5 s).
* **A busy hub is not a lost ack.** The hub's worker signals each batch it holds
  (`BatchReceived`: `queued`, then `applying`, with its estimate of the wait) and repeats
  the signal every `RESIGNAL_EVERY` seconds while it holds the batch; the box's deadline for
  the BatchAck (`AckWait`) starts at the base timeout and is stretched by each signal to
  the hub's estimate (twice it, plus the base), but never more than `hold` past that
  signal (a worker that died stops signalling: the box resends soon after) and never past
  `cap` after the send. Without signals (an old hub, a dead worker) it behaves as the fixed
  timeout did. A signal never delivers anything: only the BatchAck after the commit does.
* **An absent hub is not a lost ack either.** Each ingest worker keeps a retained status
  (online; its last will says offline, the broker publishes it when the worker dies).
  While every worker the box heard of is offline (`HubPresence.holding`), the box does not
  count its ack waits: its batches stay in flight, unacked, and are not resent. When a
  worker is online again, every wait starts afresh (`SendWindow.restart`): a batch the
  broker kept for the worker's session is delivered and acked; one that nobody kept is
  resent after that wait. A box that heard no status (an old hub) behaves as before, and
  the hold has a ceiling (`hold`): stale hearsay never parks a batch for good.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

RECONNECT_MIN = 0.2  # seconds
RECONNECT_MAX = 2.5  # + connect + first batch stays inside the 5 s of NFR-003
RESIGNAL_EVERY = 5.0  # the hub repeats its signal for each batch it holds this often


def reconnect_wait(rng: random.Random | None = None) -> float:
    """Seconds to wait before the next connection attempt: uniform over the window, drawn
    afresh for every attempt (full jitter, no lockstep between boxes or attempts)."""
    return (rng or random).uniform(RECONNECT_MIN, RECONNECT_MAX)


@dataclass
class AckWait:
    """The deadline of one sent batch's BatchAck, stretched by the hub's flow signals."""

    sent_at: float  # monotonic seconds
    base: float  # the ack timeout without any signal
    hold: float  # one signal holds the wait at most this long (> RESIGNAL_EVERY)
    cap: float  # never wait longer than this after the send
    deadline: float = 0.0
    signals: int = 0

    def __post_init__(self) -> None:
        self.deadline = self.sent_at + self.base

    def signal(self, now: float, eta_s: float) -> None:
        """The hub holds the batch and expects to answer within `eta_s`: wait for it."""
        self.signals += 1
        wanted = min(now + self.base + 2 * max(0.0, eta_s), now + self.hold)
        self.deadline = max(self.deadline, min(wanted, self.sent_at + self.cap))

    def remaining(self, now: float) -> float:
        """Seconds left before the batch counts as unanswered (<= 0: resend)."""
        return self.deadline - now

    def restart(self, now: float) -> None:
        """The hub's ingest is back after an absence: the wait starts over from now (a
        deadline the hub's signals set later than that is kept)."""
        self.sent_at = now
        self.deadline = max(self.deadline, now + self.base)


class ApplyClock:
    """The hub worker's running mean of one batch's apply time (for `eta_ms`)."""

    def __init__(self, initial: float = 0.2, weight: float = 0.2) -> None:
        self.mean = initial
        self.weight = weight

    def observe(self, seconds: float) -> None:
        """Fold one measured batch into the mean (exponentially weighted)."""
        self.mean += self.weight * (seconds - self.mean)

    def eta_ms(self, ahead: int) -> int:
        """The expected wait of a batch with `ahead` batches before it, in milliseconds."""
        return min(3_600_000, int((ahead + 1) * self.mean * 1000))


WINDOW = 4  # batches a box may have sent and not yet had answered (1: the old protocol)
SILENT_GROWTH = 2.0  # each ack timeout in a row without any word from the hub doubles the wait
SILENT_CAP = 40.0  # ... up to this many seconds (the hub's signals stretch it further)


def ack_base(base: float, silent: int, cap: float = SILENT_CAP) -> float:
    """The ack wait of a new batch after `silent` timeouts in a row with no ack and no flow
    signal from the hub (adaptive: a hub whose ingest is down, or booting, says nothing, and
    every resend into the broker's queue for it is wasted; the wait grows 5, 10, 20, 40 s and
    falls back to the base at the hub's first ack or signal)."""
    return min(max(base, cap), base * SILENT_GROWTH ** min(silent, 16))


@dataclass
class Flight:
    """One sent batch awaiting its BatchAck."""

    batch_id: object  # uuid.UUID (any hashable id: the policy does not look inside)
    seqs: list[int]
    wait: AckWait


class SendWindow:
    """Batches sent and not yet answered (docs/sync-protocol.md "A window of batches").

    The box sends batch N+1..N+k before N's ack, each carrying the seqs after the last one in
    flight; an ack answers its own batch only. When the oldest unanswered batch's wait runs
    out (or the link came back), the whole window is given up (`reset`) and the box sends
    again from its first unacked event: a resend is always safe (applying is idempotent),
    and an ack of a given-up batch that still arrives counts as before (its own seqs).
    Pure policy, shared by the box's sync agent and the herd bench's simulated boxes.
    """

    def __init__(self, size: int = WINDOW) -> None:
        self.size = max(1, size)
        self._flights: dict[object, Flight] = {}  # insertion order = send order

    def __len__(self) -> int:
        return len(self._flights)

    def has_room(self) -> bool:
        """True if one more batch may be sent now."""
        return len(self._flights) < self.size

    def add(self, flight: Flight) -> None:
        """A batch was published."""
        self._flights[flight.batch_id] = flight

    def get(self, batch_id: object) -> Flight | None:
        """The in-flight batch with this id (None: not in flight)."""
        return self._flights.get(batch_id)

    def answered(self, batch_id: object) -> Flight | None:
        """Its ack came: the batch leaves the window (None: not in flight)."""
        return self._flights.pop(batch_id, None)

    def last_seq(self) -> int:
        """The highest seq in flight (0: nothing in flight); the next batch starts above it."""
        return max((f.seqs[-1] for f in self._flights.values() if f.seqs), default=0)

    def in_flight(self) -> set[int]:
        """Every seq in flight (a gap the hub reports for them is not lost yet: they are on
        their way, maybe applied out of order by another worker)."""
        return {s for f in self._flights.values() for s in f.seqs}

    def remaining(self, now: float) -> float:
        """Seconds until the first batch counts as unanswered (inf with nothing in flight)."""
        return min((f.wait.remaining(now) for f in self._flights.values()), default=float("inf"))

    def expired(self, now: float) -> Flight | None:
        """The oldest batch whose wait ran out (None: all still within their wait)."""
        for flight in self._flights.values():
            if flight.wait.remaining(now) <= 0:
                return flight
        return None

    def reset(self) -> list[Flight]:
        """Give up every batch in flight (the box resends from its first unacked event)."""
        flights, self._flights = list(self._flights.values()), {}
        return flights

    def restart(self, now: float) -> None:
        """Every batch in flight waits afresh from now (the hub's ingest came back)."""
        for flight in self._flights.values():
            flight.wait.restart(now)


ABSENT_HOLD = 600.0  # seconds a box holds its batches on the word that the hub is absent
# seconds an absence must last before a box holds: after a (re)subscribe the retained statuses
# arrive one by one in any order, and a dead worker's will may come before a live one's online
ABSENT_GRACE = 2.0


class HubPresence:
    """What a box knows of the hub's ingest workers from their retained statuses
    (`topics.hub_ingest_status`): the hub's ingest is present while any worker says online.

    *Absent* needs evidence: at least one status heard on this link, none online, and no ack
    or flow signal since (a hub that answers is there, whatever a stale status says). No
    status at all (an old hub, a broker ACL without the topic) is never absent: the box
    times out as before. `holding` caps an absence at `hold` seconds: after that the box
    counts its waits again (a resend is always safe), and holds only once the absence has
    lasted `grace` seconds: a box that reconnected (to another node of a broker cluster, say)
    hears the retained statuses one by one, and the will of the worker that died with the old
    node can come before the online of one that lives (a false hold, seen on nats-server).
    Within the grace the box counts its waits as usual; no ack wait is that short. Pure
    policy, shared by the box's sync agent and the herd bench's simulated boxes.
    """

    def __init__(self, hold: float = ABSENT_HOLD, grace: float = ABSENT_GRACE) -> None:
        self.hold = hold
        self.grace = grace
        self._online: dict[str, bool] = {}
        self._spoke = False  # a status was heard on this link
        self._heard = False  # an ack or a flow signal since the hub last seemed gone
        self._since: float | None = None  # when the hub became absent
        self._was_holding = False

    def note(self, worker: str, online: bool | None, now: float) -> None:
        """A worker's status: online, offline, or None (it left: its status was cleared)."""
        self._spoke = True
        if online is None:
            self._online.pop(worker, None)
        else:
            self._online[worker] = online
        if not online:
            self._heard = False
        self._track(now)

    def heard(self, now: float) -> None:
        """The hub answered (an ack or a flow signal): it is there."""
        self._heard = True
        self._track(now)

    def reset(self) -> None:
        """The link was lost: what the box knew is re-learnt from the retained statuses."""
        self._online.clear()
        self._spoke = self._heard = False
        self._since = None

    def absent(self) -> bool:
        """True while the hub's ingest is known to be absent."""
        return self._spoke and not self._heard and not any(self._online.values())

    def _track(self, now: float) -> None:
        if not self.absent():
            self._since = None
        elif self._since is None:
            self._since = now

    def poll(self, now: float) -> tuple[bool, bool]:
        """(holding, resumed): holding while the hub has been absent for `grace` seconds (at
        most `hold` seconds from the start of the absence); resumed once, at the first poll
        after a hold ended (the waits restart then)."""
        holding = self._since is not None and self.grace <= now - self._since < self.hold
        resumed = self._was_holding and not holding
        self._was_holding = holding
        return holding, resumed
