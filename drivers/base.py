"""Device errors with stable codes and the status every device reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

try:  # POSIX only; pyserial lets termios errors through when a pty/USB port vanishes
    import termios

    PORT_ERRORS: tuple[type[BaseException], ...] = (OSError, termios.error)
except ImportError:  # pragma: no cover - non-POSIX hosts
    PORT_ERRORS = (OSError,)


class DeviceError(Exception):
    """Base of every device failure; `code` is stable (support and the UI key on it)."""

    code = "DEVICE_ERROR"

    def __init__(self, message: str, *, device: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.device = device
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for device-health reports and error bodies."""
        return {
            "code": self.code,
            "device": self.device,
            "message": self.message,
            "detail": self.detail,
        }


class DeviceUnavailable(DeviceError):
    """The device is unplugged, powered off, unreachable or busy (e.g. claimed by usblp)."""

    code = "DEVICE_UNAVAILABLE"


class PaperOut(DeviceError):
    """The printer reports no paper: nothing was printed."""

    code = "PAPER_OUT"


class DeviceTimeout(DeviceError):
    """The device did not answer in time, or a command was executed too late (stale kick)."""

    code = "DEVICE_TIMEOUT"


class CoverOpen(DeviceError):
    """The printer reports its cover open: nothing was printed."""

    code = "COVER_OPEN"


class GarbledRead(DeviceError):
    """Input from a device could not be decoded (e.g. a scan with unknown scancodes)."""

    code = "GARBLED_READ"


@dataclass(frozen=True)
class DeviceStatus:
    """What a device reports about itself for the health page and heartbeat."""

    online: bool
    paper_low: bool = False
    paper_out: bool = False
    detail: str = ""
    unplugged: bool = False
    cover_open: bool = False

    @property
    def state(self) -> str:
        """One word for screens: unplugged, offline, paper_out, cover_open, paper_low, online."""
        if self.unplugged:
            return "unplugged"
        if not self.online:
            return "offline"
        if self.paper_out:
            return "paper_out"
        if self.cover_open:
            return "cover_open"
        if self.paper_low:
            return "paper_low"
        return "online"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the box status heartbeat."""
        return {
            "state": self.state,
            "online": self.online,
            "paper_low": self.paper_low,
            "paper_out": self.paper_out,
            "cover_open": self.cover_open,
            "unplugged": self.unplugged,
            "detail": self.detail,
        }
