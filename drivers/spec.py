"""What the device factory builds from: one plain spec per device (no config schema here).

The box maps its configuration file onto these (`appliance/devices/driver_spec.py`), so
`drivers/` never imports the box's config schema; tests and tools build them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceSpec:
    """One device: its driver kind ("fake", "usb", "serial", "network", "file", "evdev",
    "none"), its transport (path, or host and port) and driver options."""

    kind: str = "fake"
    path: str | None = None
    host: str | None = None
    port: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def _no_scale() -> DeviceSpec:
    return DeviceSpec(kind="none")


@dataclass(frozen=True)
class DevicesSpec:
    """The devices of one box (fakes unless told; no scale unless told)."""

    printer: DeviceSpec = field(default_factory=DeviceSpec)
    drawer: DeviceSpec = field(default_factory=DeviceSpec)
    scanner: DeviceSpec = field(default_factory=DeviceSpec)
    scale: DeviceSpec = field(default_factory=_no_scale)
