"""Cash drawers: a kick is only valid for a moment and is never queued durably.

A drawer kick replayed late opens the drawer in front of nobody, so every kick
carries its creation time (monotonic clock, meaningless after a restart on
purpose) and a time-to-live; a kick executed after its TTL is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from drivers.base import DeviceStatus, DeviceTimeout, DeviceUnavailable

Clock = Callable[[], float]
DEFAULT_KICK_TTL_S = 2.0
ESC, LOWER_P = 27, 112  # ESC p m t1 t2: pulse pin m for t1*2 ms, off t2*2 ms
PIN_CODES = {2: 0, 5: 1}


class StaleKick(DeviceTimeout):
    """A kick executed after its TTL: refused, the drawer stays shut."""

    code = "STALE_KICK"


@dataclass(frozen=True)
class DrawerKick:
    """A request to open the drawer now; `reason` is for the audit log."""

    created_at: float
    ttl: float = DEFAULT_KICK_TTL_S
    reason: str = "sale"

    @classmethod
    def now(
        cls, *, ttl: float = DEFAULT_KICK_TTL_S, reason: str = "sale", clock: Clock = time.monotonic
    ) -> DrawerKick:
        """A kick created at this instant."""
        return cls(created_at=clock(), ttl=ttl, reason=reason)

    def age(self, clock: Clock = time.monotonic) -> float:
        """Seconds since the kick was created."""
        return clock() - self.created_at

    def ensure_fresh(self, clock: Clock = time.monotonic, device: str = "drawer") -> None:
        """Raise StaleKick if the kick is older than its TTL."""
        age = self.age(clock)
        if age > self.ttl:
            raise StaleKick(
                f"stale kick refused: {age:.2f}s old, ttl {self.ttl:.2f}s",
                device=device,
                detail=self.reason,
            )


class CashDrawer(Protocol):
    """What the till needs from a cash drawer."""

    def kick(self, request: DrawerKick) -> None:
        """Open the drawer now, or raise a DeviceError (StaleKick if too late)."""

    def status(self) -> DeviceStatus:
        """Current health of the drawer (or of the printer it hangs off)."""


class RawSink(Protocol):
    """Something that accepts raw ESC/POS bytes: the printer the drawer is wired to."""

    def send_raw(self, payload: bytes) -> None:
        """Send bytes to the device."""

    def status(self) -> DeviceStatus:
        """Current health."""


def kick_bytes(pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> bytes:
    """ESC p m t1 t2 for `pin` (2 or 5), pulse lengths in ms (2 ms units, 2..510)."""
    if pin not in PIN_CODES:
        raise ValueError("drawer pin must be 2 or 5")
    t1, t2 = (max(1, min(255, ms // 2)) for ms in (on_ms, off_ms))
    return bytes((ESC, LOWER_P, PIN_CODES[pin], t1, t2))


class EscposDrawer:
    """A drawer on an ESC/POS printer's drawer port (the usual RJ11 wiring)."""

    def __init__(
        self,
        sink: RawSink,
        *,
        pin: int = 2,
        on_ms: int = 100,
        off_ms: int = 100,
        name: str = "drawer",
        clock: Clock = time.monotonic,
    ) -> None:
        self._payload = kick_bytes(pin, on_ms, off_ms)
        self._sink = sink
        self._clock = clock
        self.name = name

    def kick(self, request: DrawerKick) -> None:
        """Send the pulse if the kick is still fresh."""
        request.ensure_fresh(self._clock, self.name)
        self._sink.send_raw(self._payload)

    def status(self) -> DeviceStatus:
        """The drawer is as reachable as the printer it hangs off."""
        return self._sink.status()


@dataclass
class FakeDrawer:
    """In-memory drawer: records kicks; fault "unplugged"/"timeout" on demand."""

    name: str = "fake-drawer"
    pin: int = 2
    on_ms: int = 100
    off_ms: int = 100
    clock: Clock = time.monotonic
    fault: str | None = None
    kicks: list[DrawerKick] = field(default_factory=list)
    refused: list[DrawerKick] = field(default_factory=list)
    raw: bytes = b""

    def inject(self, fault: str | None) -> None:
        """Make kicks fail with `fault` (None clears it)."""
        if fault not in (None, "unplugged", "timeout"):
            raise ValueError(f"unknown drawer fault {fault!r}")
        self.fault = fault

    def kick(self, request: DrawerKick) -> None:
        """Record a fresh kick; refuse a stale one; raise the injected fault."""
        try:
            request.ensure_fresh(self.clock, self.name)
        except StaleKick:
            self.refused.append(request)
            raise
        if self.fault == "unplugged":
            raise DeviceUnavailable("drawer is unplugged", device=self.name)
        if self.fault == "timeout":
            raise DeviceTimeout("drawer timed out", device=self.name)
        self.kicks.append(request)
        self.raw += kick_bytes(self.pin, self.on_ms, self.off_ms)

    def status(self) -> DeviceStatus:
        """Status reflecting the injected fault."""
        if self.fault:
            return DeviceStatus(online=False, detail=self.fault)
        return DeviceStatus(online=True)
