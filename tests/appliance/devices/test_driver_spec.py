"""The box's device configuration mapped onto the drivers' spec (the one place knowing both)."""

from __future__ import annotations

import dataclasses

import pytest

from appliance.devices.driver_spec import device_spec, devices_spec
from drivers.drawer import EscposDrawer
from drivers.factory import NoDevice, build_devices
from drivers.printer import EscposPrinter, FakePrinter
from drivers.reconnect import ReconnectingScanner
from drivers.spec import DeviceSpec, DevicesSpec
from firmware_config.schema import Devices, DeviceSettings


@pytest.mark.req("FR-800")
def test_every_config_field_reaches_the_spec() -> None:
    """A field added to the config schema must be mapped (or this test says so)."""
    spec_fields = {f.name for f in dataclasses.fields(DeviceSpec)}
    assert set(DeviceSettings.model_fields) == spec_fields
    assert set(Devices.model_fields) == {f.name for f in dataclasses.fields(DevicesSpec)}
    settings = DeviceSettings(
        kind="serial", path="/dev/serial/by-id/usb-Printer", options={"baudrate": 19200}
    )
    assert device_spec(settings) == DeviceSpec(
        kind="serial", path="/dev/serial/by-id/usb-Printer", options={"baudrate": 19200}
    )


@pytest.mark.req("FR-304", "FR-800")
def test_configured_devices_build_through_the_spec() -> None:
    assert devices_spec(Devices()) == DevicesSpec()  # fakes and no scale, on both sides
    config = Devices(
        printer=DeviceSettings(kind="network", host="127.0.0.1", port=9100),
        drawer=DeviceSettings(kind="network", options={"pin": 5}),
        scanner=DeviceSettings(kind="evdev", path="/dev/input/by-id/usb-Scanner-event-kbd"),
    )
    spec = devices_spec(config)
    assert (spec.printer.host, spec.printer.port, spec.drawer.options) == (
        "127.0.0.1",
        9100,
        {"pin": 5},
    )
    built = build_devices(spec)
    assert isinstance(built.printer, EscposPrinter)
    assert isinstance(built.drawer, EscposDrawer)
    assert isinstance(built.scanner, ReconnectingScanner)
    assert isinstance(built.scale, NoDevice)
    assert isinstance(build_devices(devices_spec(Devices())).printer, FakePrinter)
