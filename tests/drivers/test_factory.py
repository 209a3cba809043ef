"""Devices built from driver specs (the box maps its config onto them)."""

from __future__ import annotations

import pytest

from drivers.base import DeviceUnavailable, PaperOut
from drivers.drawer import DrawerKick, EscposDrawer, FakeDrawer
from drivers.factory import NoDevice, build_devices, build_drawer, build_printer, build_scanner
from drivers.printer import EscposPrinter, FakePrinter, ReceiptDoc
from drivers.reconnect import ReconnectingScanner
from drivers.scanner import FakeScanner
from drivers.scanner_hw import EvdevScanner, SerialScanner
from drivers.spec import DeviceSpec, DevicesSpec
from tests.drivers.conftest import TcpSink


@pytest.mark.req("FR-304", "FR-800")
def test_default_devices_are_fakes() -> None:
    devices = build_devices(DevicesSpec())
    assert isinstance(devices.printer, FakePrinter)
    assert isinstance(devices.drawer, FakeDrawer)
    assert isinstance(devices.scanner, FakeScanner)
    health = devices.health()
    assert health["printer"]["online"] is True
    assert health["drawer"]["online"] is True


@pytest.mark.req("FR-304")
def test_fake_printer_fault_from_config() -> None:
    printer = build_printer(DeviceSpec(kind="fake", options={"fault": "paper_out"}))
    with pytest.raises(PaperOut):
        printer.print_receipt(ReceiptDoc.from_text("x"))


@pytest.mark.req("FR-304")
def test_network_printer_and_drawer_share_the_port(tcp_sink: TcpSink) -> None:
    cfg = DevicesSpec(
        printer=DeviceSpec(kind="network", host="127.0.0.1", port=tcp_sink.port),
        drawer=DeviceSpec(kind="network", options={"pin": 5, "on_ms": 60}),
        scanner=DeviceSpec(kind="none"),
    )
    devices = build_devices(cfg)
    assert isinstance(devices.printer, EscposPrinter)
    assert isinstance(devices.drawer, EscposDrawer)
    devices.printer.print_receipt(ReceiptDoc.from_text("Danke"))
    devices.drawer.kick(DrawerKick.now())
    assert b"\x1bp\x01\x1e\x32" in tcp_sink.received(b"\x1bp\x01")
    assert b"Danke" in tcp_sink.received(b"Danke")


def test_none_devices_refuse() -> None:
    cfg = DevicesSpec(
        printer=DeviceSpec(kind="none"),
        drawer=DeviceSpec(kind="none"),
        scanner=DeviceSpec(kind="none"),
    )
    devices = build_devices(cfg)
    assert isinstance(devices.printer, NoDevice)
    with pytest.raises(DeviceUnavailable):
        devices.printer.print_receipt(ReceiptDoc.from_text("x"))
    with pytest.raises(DeviceUnavailable):
        devices.drawer.kick(DrawerKick.now())
    with pytest.raises(DeviceUnavailable):
        devices.scanner.read(0)
    assert devices.health()["scanner"] == {
        "state": "offline",
        "online": False,
        "paper_low": False,
        "paper_out": False,
        "cover_open": False,
        "unplugged": False,
        "detail": "not configured",
    }


def test_drawer_through_printer_that_is_none_refuses() -> None:
    drawer = build_drawer(DeviceSpec(kind="usb"), NoDevice("printer"))
    with pytest.raises(DeviceUnavailable):
        drawer.kick(DrawerKick.now())


def test_hardware_scanners_from_settings() -> None:
    evdev_cfg = DeviceSpec(
        kind="evdev", path="/dev/input/by-id/usb-Scanner-event-kbd", options={"layout": "de"}
    )
    evdev_built = build_scanner(evdev_cfg)
    assert isinstance(evdev_built, ReconnectingScanner)
    assert isinstance(evdev_built.scanner, EvdevScanner)
    serial_cfg = DeviceSpec(kind="serial", path="/dev/serial/by-id/usb-Scanner")
    serial_built = build_scanner(serial_cfg)
    assert isinstance(serial_built, ReconnectingScanner)
    assert isinstance(serial_built.scanner, SerialScanner)


@pytest.mark.parametrize(
    ("builder", "settings"),
    [
        (build_printer, DeviceSpec(kind="evdev", path="/dev/input/by-id/x")),
        (build_scanner, DeviceSpec(kind="network", host="h")),
        (build_scanner, DeviceSpec(kind="evdev")),
        (build_scanner, DeviceSpec(kind="serial")),
        (build_printer, DeviceSpec(kind="network")),
    ],
)
def test_unsupported_or_incomplete_settings(builder: object, settings: DeviceSpec) -> None:
    with pytest.raises(ValueError, match=r"needs|not supported|not an ESC/POS"):
        builder(settings)  # type: ignore[operator]
