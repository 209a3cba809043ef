"""Hot-plug reconciliation: re-check every configured device and keep its latest report.

The DeviceManager asks each device for its status on a fixed interval and, where
pyudev is installed, also as soon as the kernel announces an input/tty/usb change.
A device that was unplugged and came back turns online at the next check without a
restart; errors seen while using a device (a failed print) are recorded too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from drivers.base import DeviceError, DeviceStatus

UDEV_SUBSYSTEMS = ("input", "tty", "usb", "usbmisc")


class Reporting(Protocol):
    """Anything that can say how it is."""

    def status(self) -> DeviceStatus:
        """Current health."""


@dataclass
class DeviceReport:
    """What the health page shows for one device."""

    name: str
    kind: str
    path: str
    status: DeviceStatus
    last_error: str = ""
    last_seen: float | None = None  # wall clock of the last check that found it online
    checked_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            **self.status.to_dict(),
            "last_error": self.last_error,
            "last_seen": self.last_seen,
            "checked_at": self.checked_at,
        }


@dataclass
class _Entry:
    kind: str
    path: str
    device: Reporting
    report: DeviceReport | None = None
    pending_error: str = ""


OnChange = Callable[[DeviceReport], object]


@dataclass
class DeviceManager:
    """Keeps one DeviceReport per configured device, refreshed by `reconcile()`."""

    wall: Callable[[], float] = time.time
    on_change: OnChange | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _observer: Any = None

    def add(self, name: str, kind: str, path: str, device: Reporting) -> None:
        """Register a configured device."""
        self._entries[name] = _Entry(kind, path, device)

    def note_error(self, name: str, err: DeviceError) -> None:
        """Remember an error seen while using a device (shown until it works again)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                entry.pending_error = f"{err.code}: {err.message}"
        self.wake.set()

    def reconcile(self) -> list[DeviceReport]:
        """Check every device now; call on_change for each whose state changed."""
        reports = []
        for name, entry in list(self._entries.items()):
            report = self._check(name, entry)
            reports.append(report)
        return reports

    def _check(self, name: str, entry: _Entry) -> DeviceReport:
        try:
            status = entry.device.status()
        except DeviceError as err:
            status = DeviceStatus(online=False, detail=err.code)
        now = self.wall()
        previous = entry.report
        with self._lock:
            error, entry.pending_error = entry.pending_error, ""
        if not error and previous is not None and not status.online:
            error = previous.last_error
        last_seen = now if status.online else (previous.last_seen if previous else None)
        report = DeviceReport(name, entry.kind, entry.path, status, error, last_seen, now)
        entry.report = report
        changed = previous is None or (previous.status, previous.last_error) != (
            status,
            error,
        )
        if changed and self.on_change is not None:
            self.on_change(report)
        return report

    def reports(self) -> list[DeviceReport]:
        """The latest report of every checked device."""
        return [e.report for e in self._entries.values() if e.report is not None]

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        """Reconcile every `interval` seconds, or sooner on a udev event, until `stop`."""
        while not stop.is_set():
            self.reconcile()
            self.wake.wait(interval)
            self.wake.clear()

    def start_udev(self) -> bool:
        """Wake on kernel hot-plug events if pyudev is installed (optional); True if watching."""
        try:
            import pyudev  # optional dependency, guarded
        except ImportError:
            return False
        context = pyudev.Context()
        monitor = pyudev.Monitor.from_netlink(context)
        for subsystem in UDEV_SUBSYSTEMS:
            monitor.filter_by(subsystem)
        self._observer = pyudev.MonitorObserver(monitor, callback=lambda _dev: self.wake.set())
        self._observer.start()
        return True

    def stop_udev(self) -> None:
        """Stop the udev observer, if any."""
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
