"""Reconnect with backoff: a scanner that went away is retried later, never in a busy loop.

An unplugged evdev node raises ENODEV on every read; one till app spun at 100 % CPU
retrying it (PITFALLS). ReconnectingScanner turns DeviceUnavailable into a pause that
doubles per failure up to a cap, with the clock and the sleep injected so tests can
prove the schedule without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.base import DeviceError, DeviceStatus, DeviceUnavailable
from drivers.scanner import BarcodeScanner

Clock = Callable[[], float]
Sleep = Callable[[float], object]


@dataclass(frozen=True)
class Backoff:
    """Exponential delays: base, 2*base, 4*base ... capped."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failures (>= 1)."""
        return float(min(self.cap, self.base * 2 ** min(max(failures, 1) - 1, 20)))


class ReconnectingScanner:
    """Wraps a scanner: reads pass through; after an unplug, retries on a backoff schedule."""

    def __init__(
        self,
        scanner: BarcodeScanner,
        *,
        backoff: Backoff | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.scanner = scanner
        self.backoff = backoff or Backoff()
        self._clock = clock
        self.sleep = sleep
        self.failures = 0
        self.attempts = 0
        self.last_error: DeviceError | None = None
        self._retry_at = 0.0

    def read(self, timeout: float | None = None) -> str | None:
        """The next code; None on timeout or while waiting to reconnect."""
        wait = self._retry_at - self._clock()
        if wait > 0:
            if timeout is not None and timeout < wait:
                self.sleep(timeout)
                return None
            self.sleep(wait)
        self.attempts += 1
        try:
            code = self.scanner.read(timeout)
        except DeviceUnavailable as err:
            self.failures += 1
            self.last_error = err
            self._retry_at = self._clock() + self.backoff.delay(self.failures)
            return None
        self.failures = 0
        return code

    def status(self) -> DeviceStatus:
        """The wrapped scanner's status; if it is back, the next read retries at once."""
        status = self.scanner.status()
        if status.online:
            self._retry_at = 0.0
        return status
