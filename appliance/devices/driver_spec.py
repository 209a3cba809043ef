"""The box's device configuration (firmware_config) as the drivers' plain spec.

The one place that knows both: `drivers/` never imports the box's config schema, and the
provisioning self-test builds its devices through here, exactly as the device service does.
"""

from __future__ import annotations

from drivers.spec import DeviceSpec, DevicesSpec
from firmware_config.schema import Devices, DeviceSettings


def device_spec(settings: DeviceSettings) -> DeviceSpec:
    """One configured device as the factory's spec."""
    return DeviceSpec(
        kind=settings.kind,
        path=settings.path,
        host=settings.host,
        port=settings.port,
        options=dict(settings.options),
    )


def devices_spec(devices: Devices) -> DevicesSpec:
    """The configured device map as the factory's spec."""
    return DevicesSpec(
        printer=device_spec(devices.printer),
        drawer=device_spec(devices.drawer),
        scanner=device_spec(devices.scanner),
        scale=device_spec(devices.scale),
    )
