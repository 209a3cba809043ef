"""Barcode scanners: the BarcodeScanner interface, keystroke decoding and a fake.

HID scanners type their codes; `decode_keystrokes` turns raw Linux keycodes into
text with the scanner's configured layout, never the host keymap.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from drivers.base import DeviceStatus, DeviceUnavailable, GarbledRead
from drivers.keymaps import (
    IGNORED,
    KEY_CAPSLOCK,
    KEY_RIGHTALT,
    SHIFTS,
    TERMINATORS,
    Layout,
    get_layout,
)

KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2  # evdev key event values


class BarcodeScanner(Protocol):
    """What the till needs from a scanner."""

    def read(self, timeout: float | None = None) -> str | None:
        """The next scanned code, None on timeout; GarbledRead for an undecodable scan."""

    def status(self) -> DeviceStatus:
        """Current health of the scanner."""


def iter_codes(scanner: BarcodeScanner, timeout: float | None = None) -> Iterator[str]:
    """Yield codes until a read times out (garbled reads propagate to the caller)."""
    while (code := scanner.read(timeout)) is not None:
        yield code


class KeystrokeDecoder:
    """Stateful decoder of key events into codes (shift, caps lock, AltGr, Enter/Tab)."""

    def __init__(self, layout: str | Layout = "us") -> None:
        self.layout = get_layout(layout) if isinstance(layout, str) else layout
        self._buf: list[str] = []
        self._shift = self._altgr = self._caps = False
        self._bad: list[int] = []

    def feed(self, keycode: int, value: int = KEY_DOWN) -> str | None:
        """Process one key event; return a finished code when a terminator is pressed."""
        if keycode in SHIFTS:
            self._shift = value != KEY_UP
            return None
        if keycode == KEY_RIGHTALT:
            self._altgr = value != KEY_UP
            return None
        # Only presses count: autorepeat (hold) would duplicate characters of a scan.
        if value != KEY_DOWN or keycode in IGNORED:
            return None
        if keycode == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if keycode in TERMINATORS:
            return self.flush()
        ch = self.layout.char(keycode, shift=self._shift, altgr=self._altgr, caps=self._caps)
        if ch is None:
            self._bad.append(keycode)
        else:
            self._buf.append(ch)
        return None

    @property
    def pending(self) -> bool:
        """True while a code has started but no terminator arrived yet."""
        return bool(self._buf or self._bad)

    def flush(self) -> str | None:
        """End the current code: the text, None if empty, GarbledRead if undecodable."""
        text, bad = "".join(self._buf), self._bad
        self._buf, self._bad = [], []
        if bad:
            raise GarbledRead(
                f"scan contained keycodes {bad} unknown to layout {self.layout.name}",
                device="scanner",
                detail=text,
            )
        return text or None


def decode_keystrokes(events: Iterable[int | tuple[int, int]], layout: str = "us") -> list[str]:
    """Decode key events ((keycode, value) pairs, or bare keycodes = presses) into codes.

    Codes end at Enter, keypad Enter or Tab; text left without a terminator counts as
    a final code. Raises GarbledRead for keycodes the layout does not know.
    """
    decoder = KeystrokeDecoder(layout)
    codes: list[str] = []
    for event in events:
        keycode, value = (event, KEY_DOWN) if isinstance(event, int) else event
        code = decoder.feed(keycode, value)
        if code is not None:
            codes.append(code)
    tail = decoder.flush()
    if tail is not None:
        codes.append(tail)
    return codes


_GARBLED = object()
_UNPLUGGED = object()


@dataclass
class FakeScanner:
    """A scanner fed by tests and demos (thread-safe); can inject garbled reads and unplugs.

    With `feed_file`, lines appended to that file (by a demo or an end-to-end test in
    another process) are scanned as codes; lines present at start-up are skipped.
    """

    name: str = "fake-scanner"
    _queue: queue.Queue[object] = field(default_factory=queue.Queue)
    unplugged: bool = False
    reads: list[str] = field(default_factory=list)
    feed_file: str | None = None
    _feed_pos: int = 0
    _feed_rest: bytes = b""

    def __post_init__(self) -> None:
        if self.feed_file and os.path.exists(self.feed_file):
            self._feed_pos = os.path.getsize(self.feed_file)

    def _poll_feed(self) -> None:
        """Queue complete lines appended to the feed file since the last poll."""
        if not self.feed_file or not os.path.exists(self.feed_file):
            return
        with open(self.feed_file, "rb") as fh:
            fh.seek(self._feed_pos)
            data = fh.read()
        self._feed_pos += len(data)
        *lines, self._feed_rest = (self._feed_rest + data).split(b"\n")
        for line in lines:
            text = line.decode("utf-8", errors="replace").strip()
            if text == "!garbled":
                self.feed_garbled()
            elif text:
                self.feed(text)

    def feed(self, *codes: str) -> None:
        """Queue codes as if scanned."""
        for code in codes:
            self._queue.put(code)

    def feed_keystrokes(self, events: Iterable[int | tuple[int, int]], layout: str) -> None:
        """Queue what a HID scanner with `layout` would type (decoded like real input)."""
        try:
            self.feed(*decode_keystrokes(events, layout))
        except GarbledRead:
            self._queue.put(_GARBLED)

    def feed_garbled(self) -> None:
        """Queue one undecodable read."""
        self._queue.put(_GARBLED)

    def unplug(self) -> None:
        """Simulate the scanner going away (ENODEV on a real one)."""
        self.unplugged = True
        self._queue.put(_UNPLUGGED)

    def read(self, timeout: float | None = None) -> str | None:
        """The next queued code; None if nothing arrives within `timeout`."""
        if self.unplugged and self._queue.empty():
            raise DeviceUnavailable("scanner is unplugged", device=self.name)
        try:
            item = self._next_item(timeout)
        except queue.Empty:
            return None
        if item is _GARBLED:
            raise GarbledRead("scanner read could not be decoded", device=self.name)
        if item is _UNPLUGGED:
            raise DeviceUnavailable("scanner is unplugged", device=self.name)
        code = str(item)
        self.reads.append(code)
        return code

    def _next_item(self, timeout: float | None) -> object:
        """Take the next item, polling the feed file in short slices while waiting."""
        if not self.feed_file:
            return self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._poll_feed()
            try:
                return self._queue.get_nowait()
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
            slice_s = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic()))
            time.sleep(slice_s)

    def status(self) -> DeviceStatus:
        """Online unless unplugged."""
        if self.unplugged:
            return DeviceStatus(online=False, unplugged=True, detail="unplugged")
        return DeviceStatus(online=True)
