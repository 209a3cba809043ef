"""Hardware scanners: HID via evdev (Linux only, import guarded) and serial via pyserial."""

from __future__ import annotations

import errno
import select
from typing import Any

import serial

from drivers.base import DeviceStatus, DeviceTimeout, DeviceUnavailable
from drivers.scanner import KeystrokeDecoder

try:  # evdev exists only on Linux; the hub and dev laptops import drivers without it
    import evdev

    HAVE_EVDEV = True
except ImportError:  # pragma: no cover - exercised on non-Linux hosts
    HAVE_EVDEV = False

EV_KEY = 1
STABLE_PREFIXES = ("/dev/input/by-id/", "/dev/input/by-path/")


class EvdevScanner:
    """A HID scanner read from its own evdev node, decoded with the configured layout.

    Only stable `/dev/input/by-id` or `by-path` nodes are accepted: grabbing an
    `eventN` that turns out to be the keyboard would lock the till's keyboard.
    """

    def __init__(self, path: str, *, layout: str = "us", grab: bool = True) -> None:
        if not path.startswith(STABLE_PREFIXES):
            raise ValueError(f"scanner path must be under {STABLE_PREFIXES}, not {path!r}")
        if not HAVE_EVDEV:
            raise DeviceUnavailable("evdev is not available on this platform", device=path)
        self.path = path
        self._decoder = KeystrokeDecoder(layout)
        self._grab = grab
        self._dev: Any = None

    def _device(self) -> Any:
        if self._dev is None:
            try:
                dev = evdev.InputDevice(self.path)
                if self._grab:
                    dev.grab()
            except OSError as err:
                raise DeviceUnavailable(
                    "scanner not found", device=self.path, detail=str(err)
                ) from err
            self._dev = dev
        return self._dev

    def read(self, timeout: float | None = None) -> str | None:
        """Block up to `timeout` for a complete code."""
        dev = self._device()
        while True:
            ready, _, _ = select.select([dev.fd], [], [], timeout)
            if not ready:
                return None
            try:
                events = list(dev.read())
            except OSError as err:
                # ENODEV when unplugged: drop the handle and report, never spin on it
                self.close()
                code = errno.errorcode.get(err.errno or 0, "")
                raise DeviceUnavailable("scanner went away", device=self.path, detail=code) from err
            for event in events:
                if event.type == EV_KEY:
                    text = self._decoder.feed(event.code, event.value)
                    if text is not None:
                        return text

    def close(self) -> None:
        """Release the grab and the file descriptor."""
        dev, self._dev = self._dev, None
        if dev is not None:
            try:
                dev.close()
            except OSError:
                return

    def status(self) -> DeviceStatus:
        """Online if the node opens."""
        try:
            self._device()
        except DeviceUnavailable as err:
            return DeviceStatus(online=False, detail=err.code)
        return DeviceStatus(online=True)


class SerialScanner:
    """A scanner in serial (or USB-CDC) mode: ASCII codes terminated by CR/LF."""

    def __init__(self, path: str, *, baudrate: int = 9600) -> None:
        self.path = path
        self.baudrate = baudrate
        self._port: serial.Serial | None = None

    def _open(self, timeout: float | None) -> serial.Serial:
        if self._port is None:
            try:
                self._port = serial.Serial(self.path, self.baudrate, timeout=timeout)
            except serial.SerialException as err:
                raise DeviceUnavailable(
                    "scanner not found", device=self.path, detail=str(err)
                ) from err
        self._port.timeout = timeout
        return self._port

    def read(self, timeout: float | None = None) -> str | None:
        """The next CR/LF-terminated code, None on timeout."""
        port = self._open(timeout)
        try:
            raw = port.read_until(b"\r")
        except serial.SerialTimeoutException as err:
            raise DeviceTimeout("scanner timed out", device=self.path) from err
        except serial.SerialException as err:
            self._port = None
            raise DeviceUnavailable("scanner went away", device=self.path) from err
        text = raw.decode("ascii", errors="replace").strip()
        return text or None

    def status(self) -> DeviceStatus:
        """Online if the port opens."""
        try:
            self._open(0)
        except DeviceUnavailable as err:
            return DeviceStatus(online=False, detail=err.code)
        return DeviceStatus(online=True)
