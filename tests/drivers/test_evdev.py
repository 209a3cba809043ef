"""evdev scanner glue through its seams: a fake input node on a real pipe fd (no hardware).

The node's fd is a real pipe so select() really waits; reading events goes through
the node, which can raise ENODEV like an unplugged scanner.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from drivers.base import DeviceUnavailable
from drivers.keymaps import KEY_ENTER, KEY_LEFTSHIFT
from drivers.reconnect import Backoff, ReconnectingScanner
from drivers.scanner import KEY_DOWN, KEY_UP
from drivers.scanner_hw import EV_KEY, EvdevScanner

BY_ID = "/dev/input/by-id/usb-Honeywell_Scanner-event-kbd"
KEYBOARD = "/dev/input/by-id/usb-Cherry_Keyboard-event-kbd"
KEY_1, KEY_2, KEY_Y, KEY_Z = 2, 3, 21, 44


@dataclass
class Event:
    """What evdev yields: type, code, value."""

    code: int
    value: int = KEY_DOWN
    type: int = EV_KEY


@dataclass
class FakeNode:
    """An input node: real pipe fd for select(), queued events, ENODEV on demand."""

    path: str
    events: list[Event] = field(default_factory=list)
    gone: bool = False
    grabbed: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        self._r, self._w = os.pipe()
        self.fd = self._r
        self._lock = threading.Lock()

    def push(self, *events: Event) -> None:
        """Make events readable."""
        with self._lock:
            self.events.extend(events)
        os.write(self._w, b"x")

    def unplug(self) -> None:
        """The next read fails like a removed USB device."""
        self.gone = True
        os.write(self._w, b"x")

    def read(self) -> Iterable[Any]:
        """Drain the wake-up bytes and return queued events (or ENODEV)."""
        os.read(self._r, 4096)
        if self.gone:
            raise OSError(errno.ENODEV, "No such device")
        with self._lock:
            out, self.events = self.events, []
        return out

    def grab(self) -> None:
        """Record the exclusive grab."""
        self.grabbed = True

    def close(self) -> None:
        """Close the pipe."""
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)


def presses(*codes: int) -> list[Event]:
    """Key down/up pairs."""
    return [Event(c, v) for c in codes for v in (KEY_DOWN, KEY_UP)]


@pytest.fixture
def nodes() -> Iterator[dict[str, FakeNode]]:
    """The input nodes present on this fake machine: the scanner and the keyboard."""
    present = {BY_ID: FakeNode(BY_ID), KEYBOARD: FakeNode(KEYBOARD)}
    yield present
    for node in present.values():
        node.close()


def opener_for(nodes: dict[str, FakeNode], opened: list[str]) -> Any:
    """An opener that knows only the present nodes (ENOENT otherwise)."""

    def open_node(path: str) -> FakeNode:
        opened.append(path)
        if path not in nodes or nodes[path].gone:
            raise OSError(errno.ENOENT, "No such file or directory")
        return nodes[path]

    return open_node


@pytest.mark.req("FR-300")
def test_grabs_only_the_configured_node_and_decodes_its_layout(
    nodes: dict[str, FakeNode],
) -> None:
    opened: list[str] = []
    scanner = EvdevScanner(BY_ID, layout="de", opener=opener_for(nodes, opened))
    nodes[BY_ID].push(*presses(KEY_1, KEY_Y, KEY_2, KEY_ENTER))
    assert scanner.read(1.0) == "1z2", "a German-layout scanner's Y key is Z"
    assert opened == [BY_ID]
    assert nodes[BY_ID].grabbed
    assert not nodes[KEYBOARD].grabbed


def test_code_ends_at_inter_key_timeout_without_enter(nodes: dict[str, FakeNode]) -> None:
    scanner = EvdevScanner(BY_ID, opener=opener_for(nodes, []), inter_key_timeout=0.05)
    node = nodes[BY_ID]
    node.push(Event(KEY_LEFTSHIFT), *presses(KEY_Z), Event(KEY_LEFTSHIFT, KEY_UP))
    node.push(*presses(KEY_1, KEY_2))
    assert scanner.read(1.0) == "Z12"
    assert scanner.read(0.1) is None


def test_two_codes_in_one_batch_are_both_returned(nodes: dict[str, FakeNode]) -> None:
    scanner = EvdevScanner(BY_ID, opener=opener_for(nodes, []))
    nodes[BY_ID].push(*presses(KEY_1, KEY_ENTER, KEY_2, KEY_ENTER))
    assert [scanner.read(1.0), scanner.read(1.0)] == ["1", "2"]


def test_unstable_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="by-id"):
        EvdevScanner("/dev/input/event3", opener=lambda _p: None)  # type: ignore[arg-type,return-value]


@pytest.mark.req("FR-500")
def test_enodev_marks_unplugged_and_releases_the_node(nodes: dict[str, FakeNode]) -> None:
    scanner = EvdevScanner(BY_ID, opener=opener_for(nodes, []))
    assert scanner.status().state == "online"
    nodes[BY_ID].unplug()
    with pytest.raises(DeviceUnavailable) as info:
        scanner.read(1.0)
    assert info.value.detail == "ENODEV"
    assert nodes[BY_ID].closed
    status = scanner.status()
    assert (status.state, status.detail) == ("unplugged", "ENOENT")


class FakeClock:
    """Virtual time: sleep advances it and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.req("FR-500")
def test_reconnect_backs_off_exponentially_never_spins(nodes: dict[str, FakeNode]) -> None:
    opened: list[str] = []
    nodes[BY_ID].gone = True
    clock = FakeClock()
    scanner = ReconnectingScanner(
        EvdevScanner(BY_ID, opener=opener_for(nodes, opened)),
        backoff=Backoff(base=0.5, cap=8.0),
        clock=clock,
        sleep=clock.sleep,
    )
    while clock.now < 1000.0 + 60:
        assert scanner.read(timeout=1.0) is None
    # 60 virtual seconds: 0.5, 1, 2, 4, 8, 8, ... -> about a dozen attempts, not thousands
    assert 8 <= len(opened) <= 14
    waits = [s for s in clock.sleeps if s > 0]
    assert max(waits) <= 8.0
    assert sum(clock.sleeps) >= 59
    assert scanner.failures == len(opened)


def test_reconnect_resumes_when_the_scanner_returns(nodes: dict[str, FakeNode]) -> None:
    clock = FakeClock()
    node = nodes[BY_ID]
    node.gone = True
    scanner = ReconnectingScanner(
        EvdevScanner(BY_ID, opener=opener_for(nodes, [])), clock=clock, sleep=clock.sleep
    )
    assert scanner.read(0.1) is None
    assert scanner.status().state == "unplugged"
    replug = FakeNode(BY_ID)
    nodes[BY_ID] = replug
    assert scanner.status().state == "online", "hot-plug: status check reopens the node"
    replug.push(*presses(KEY_2, KEY_ENTER))
    assert scanner.read(1.0) == "2"
    assert scanner.failures == 0
    node.close()


def test_backoff_schedule() -> None:
    backoff = Backoff(base=0.5, cap=30.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 10)] == [0.5, 1.0, 2.0, 4.0, 30.0]
