"""Hardware scanners: HID via evdev (Linux only, import guarded) and serial via pyserial."""

from __future__ import annotations

import contextlib
import errno
import select
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import serial

from drivers.base import PORT_ERRORS, DeviceStatus, DeviceTimeout, DeviceUnavailable
from drivers.scanner import KeystrokeDecoder

try:  # evdev exists only on Linux; the hub and dev laptops import drivers without it
    import evdev

    HAVE_EVDEV = True
except ImportError:  # pragma: no cover - exercised on non-Linux hosts
    HAVE_EVDEV = False

EV_KEY = 1
STABLE_PREFIXES = ("/dev/input/by-id/", "/dev/input/by-path/")
DEFAULT_INTER_KEY_S = 0.1  # a HID scanner types a whole code within a few ms per key


class InputNode(Protocol):
    """The slice of evdev.InputDevice the scanner uses (a seam for tests)."""

    fd: int

    def read(self) -> Iterable[Any]:
        """Pending input events (objects with type, code, value)."""

    def grab(self) -> None:
        """Take the device exclusively (its keys stop reaching the desktop)."""

    def close(self) -> None:
        """Release the node."""


Opener = Callable[[str], InputNode]


def _evdev_open(path: str) -> InputNode:
    node: InputNode = evdev.InputDevice(path)
    return node


class EvdevScanner:
    """A HID scanner read from its own evdev node, decoded with the configured layout.

    Only stable `/dev/input/by-id` or `by-path` nodes are accepted and only that node
    is grabbed: grabbing an `eventN` that turns out to be the keyboard would lock the
    till's keyboard. A code ends at Enter/Tab or after `inter_key_timeout` of silence
    (scanners programmed without a suffix). Unplugging raises DeviceUnavailable once;
    the caller (ReconnectingScanner) decides when to try again - never a busy loop.
    """

    def __init__(
        self,
        path: str,
        *,
        layout: str = "us",
        grab: bool = True,
        inter_key_timeout: float = DEFAULT_INTER_KEY_S,
        opener: Opener | None = None,
    ) -> None:
        if not path.startswith(STABLE_PREFIXES):
            raise ValueError(f"scanner path must be under {STABLE_PREFIXES}, not {path!r}")
        if opener is None and not HAVE_EVDEV:
            raise DeviceUnavailable("evdev is not available on this platform", device=path)
        self.path = path
        self._decoder = KeystrokeDecoder(layout)
        self._grab = grab
        self._inter_key = inter_key_timeout
        self._opener = opener or _evdev_open
        self._dev: InputNode | None = None
        self._ready: deque[str] = deque()
        self.unplugged = False

    def _device(self) -> InputNode:
        if self._dev is None:
            try:
                dev = self._opener(self.path)
                if self._grab:
                    dev.grab()
            except OSError as err:
                self.unplugged = True
                raise DeviceUnavailable(
                    "scanner not found", device=self.path, detail=_errno_name(err)
                ) from err
            self._dev, self.unplugged = dev, False
        return self._dev

    def read(self, timeout: float | None = None) -> str | None:
        """Block up to `timeout` for a complete code."""
        if self._ready:
            return self._ready.popleft()
        dev = self._device()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = remaining
            if self._decoder.pending:
                wait = self._inter_key if remaining is None else min(self._inter_key, remaining)
            ready, _, _ = select.select([dev.fd], [], [], wait)
            if ready:
                self._consume(dev)
            elif self._decoder.pending:
                code = self._decoder.flush()  # inter-key silence ends the code
                if code is not None:
                    self._ready.append(code)
            if self._ready:
                return self._ready.popleft()
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _consume(self, dev: InputNode) -> None:
        try:
            events = list(dev.read())
        except OSError as err:
            # ENODEV when unplugged: drop the handle and report, never spin on it
            self.close()
            self.unplugged = True
            raise DeviceUnavailable(
                "scanner went away", device=self.path, detail=_errno_name(err)
            ) from err
        for event in events:
            if event.type == EV_KEY:
                code = self._decoder.feed(event.code, event.value)
                if code is not None:
                    self._ready.append(code)

    def close(self) -> None:
        """Release the grab and the file descriptor."""
        dev, self._dev = self._dev, None
        if dev is not None:
            try:
                dev.close()
            except OSError:
                return

    def status(self) -> DeviceStatus:
        """Online if the node opens; unplugged if it does not exist any more."""
        try:
            self._device()
        except DeviceUnavailable as err:
            return DeviceStatus(online=False, unplugged=True, detail=err.detail or err.code)
        return DeviceStatus(online=True)


def _errno_name(err: OSError) -> str:
    """ENODEV, ENOENT, ... for logs and the health page."""
    return errno.errorcode.get(err.errno or 0, str(err))


class SerialScanner:
    """A scanner in serial (or USB-CDC) mode: ASCII codes terminated by CR/LF."""

    def __init__(self, path: str, *, baudrate: int = 9600) -> None:
        self.path = path
        self.baudrate = baudrate
        self._port: serial.Serial | None = None
        self._buf = b""

    def _open(self, timeout: float | None) -> serial.Serial:
        if self._port is None:
            try:
                self._port = serial.Serial(self.path, self.baudrate, timeout=timeout)
            except (serial.SerialException, *PORT_ERRORS) as err:
                raise DeviceUnavailable(
                    "scanner not found", device=self.path, detail=str(err)
                ) from err
        return self._port

    def read(self, timeout: float | None = None) -> str | None:
        """The next CR/LF-terminated code, None on timeout (a half code waits for its end)."""
        port = self._open(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self._take_code()) is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            try:
                port.timeout = remaining
                chunk = port.read(max(1, port.in_waiting))
            except serial.SerialTimeoutException as err:
                raise DeviceTimeout("scanner timed out", device=self.path) from err
            except (serial.SerialException, *PORT_ERRORS) as err:
                self.close()
                raise DeviceUnavailable(
                    "scanner went away", device=self.path, detail=str(err)
                ) from err
            self._buf += chunk
        return code

    def _take_code(self) -> str | None:
        """Pop the first complete code from the buffer (empty lines are skipped)."""
        while True:
            ends = [i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0]
            if not ends:
                return None
            cut = min(ends)
            raw, self._buf = self._buf[:cut], self._buf[cut + 1 :]
            text = raw.decode("ascii", errors="replace").strip()
            if text:
                return text

    def close(self) -> None:
        """Release the port (a vanished port may fail to close; it is gone either way)."""
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, *PORT_ERRORS):
                port.close()

    def status(self) -> DeviceStatus:
        """Online if the port is open or opens; unplugged if it is gone."""
        if self._port is not None:
            return DeviceStatus(online=True)
        try:
            self._open(0)
        except DeviceUnavailable as err:
            return DeviceStatus(online=False, unplugged=True, detail=err.code)
        return DeviceStatus(online=True)
