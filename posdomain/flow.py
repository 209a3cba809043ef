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
