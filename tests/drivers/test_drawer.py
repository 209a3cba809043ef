"""Cash drawer: fresh kicks open it, late kicks are refused, pulses are configurable."""

from __future__ import annotations

import pytest

from drivers.base import DeviceTimeout, DeviceUnavailable
from drivers.drawer import DrawerKick, EscposDrawer, FakeDrawer, StaleKick, kick_bytes
from drivers.printer import EscposPrinter, FakePrinter, escpos_factory
from drivers.spec import DeviceSpec
from tests.drivers.conftest import TcpSink


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.req("FR-304")
def test_fresh_kick_opens_fake_drawer() -> None:
    clock = ManualClock()
    drawer = FakeDrawer(clock=clock)
    drawer.kick(DrawerKick.now(clock=clock))
    assert len(drawer.kicks) == 1
    assert drawer.raw == b"\x1bp\x00\x32\x32"


@pytest.mark.req("FR-304")
def test_stale_kick_refused_and_never_opens() -> None:
    clock = ManualClock()
    drawer = FakeDrawer(clock=clock)
    kick = DrawerKick.now(clock=clock)
    clock.now += 2.5
    with pytest.raises(StaleKick) as info:
        drawer.kick(kick)
    assert isinstance(info.value, DeviceTimeout)
    assert info.value.code == "STALE_KICK"
    assert "stale kick" in info.value.message
    assert drawer.kicks == []
    assert drawer.raw == b""
    assert drawer.refused == [kick]


@pytest.mark.req("FR-304")
def test_kick_within_custom_ttl_ok_then_stale() -> None:
    clock = ManualClock()
    drawer = FakeDrawer(clock=clock)
    kick = DrawerKick.now(ttl=5.0, clock=clock)
    clock.now += 4.9
    drawer.kick(kick)
    clock.now += 0.2
    with pytest.raises(StaleKick):
        drawer.kick(kick)


@pytest.mark.req("FR-304")
def test_default_ttl_is_two_seconds() -> None:
    assert DrawerKick.now().ttl == 2.0


@pytest.mark.req("FR-304")
def test_escpos_drawer_refuses_stale_kick_before_sending() -> None:
    clock = ManualClock()
    printer = FakePrinter()
    drawer = EscposDrawer(printer, pin=5, clock=clock)
    kick = DrawerKick.now(clock=clock)
    clock.now += 3
    with pytest.raises(StaleKick):
        drawer.kick(kick)
    assert printer.raw == b""


@pytest.mark.req("FR-304")
def test_escpos_drawer_over_tcp_sends_pulse(tcp_sink: TcpSink) -> None:
    settings = DeviceSpec(kind="network", host="127.0.0.1", port=tcp_sink.port)
    drawer = EscposDrawer(EscposPrinter(escpos_factory(settings)), pin=2, on_ms=120, off_ms=240)
    drawer.kick(DrawerKick.now())
    assert tcp_sink.received(b"\x1bp\x00\x3c\x78") == b"\x1bp\x00\x3c\x78"


@pytest.mark.parametrize(
    ("pin", "on_ms", "off_ms", "expected"),
    [
        (2, 100, 100, b"\x1bp\x00\x32\x32"),
        (5, 100, 100, b"\x1bp\x01\x32\x32"),
        (2, 10_000, 0, b"\x1bp\x00\xff\x01"),
    ],
)
def test_kick_bytes(pin: int, on_ms: int, off_ms: int, expected: bytes) -> None:
    assert kick_bytes(pin, on_ms, off_ms) == expected


def test_kick_bytes_rejects_other_pins() -> None:
    with pytest.raises(ValueError, match="pin"):
        kick_bytes(3)


@pytest.mark.parametrize(
    ("fault", "error"), [("unplugged", DeviceUnavailable), ("timeout", DeviceTimeout)]
)
def test_fake_drawer_faults(fault: str, error: type[Exception]) -> None:
    drawer = FakeDrawer()
    drawer.inject(fault)
    with pytest.raises(error):
        drawer.kick(DrawerKick.now())
    assert drawer.kicks == []
    assert not drawer.status().online
    drawer.inject(None)
    drawer.kick(DrawerKick.now())
    assert drawer.status().online
    assert len(drawer.kicks) == 1


def test_drawer_on_unplugged_printer_raises() -> None:
    printer = FakePrinter()
    printer.inject("unplugged")
    with pytest.raises(DeviceUnavailable):
        EscposDrawer(printer).kick(DrawerKick.now())
