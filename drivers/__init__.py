"""Devices behind small interfaces: receipt printer, cash drawer, barcode scanner.

This is the only package that imports python-escpos, pyserial or evdev. Linux-only
imports are guarded inside the modules that need them, so `import drivers` works on
every platform (the hub never touches a device).
"""

from drivers.base import (
    CoverOpen,
    DeviceError,
    DeviceStatus,
    DeviceTimeout,
    DeviceUnavailable,
    GarbledRead,
    PaperOut,
)

__all__ = [
    "CoverOpen",
    "DeviceError",
    "DeviceStatus",
    "DeviceTimeout",
    "DeviceUnavailable",
    "GarbledRead",
    "PaperOut",
]
