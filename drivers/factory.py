"""Build the box's devices from a `drivers.spec.DevicesSpec` (kind "fake" gives fakes).

Printer options: `timeout`, `baudrate`, `profile`, `encoding`, `check_paper`,
`vendor_id`/`product_id`/`timeout_ms` (pyusb), `fault` (fake only).
Drawer options: `pin` (2 or 5), `on_ms`, `off_ms`; a drawer of kind "network",
"serial", "usb" or "file" without its own host/path hangs off the printer.
Scanner options: `layout` ("us", "de"), `baudrate`, `grab`, `inter_key_ms`,
`feed_file` (fake only: lines appended to it are scanned). Hardware scanners are
wrapped in ReconnectingScanner (unplug → backoff → reconnect).
Scale options: `baudrate`, `decimals`, `framing` ("7E1" default or "8N1"), `timeout`,
`weight_file` (fake only: what the file holds lies on the platter).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import DeviceStatus, DeviceUnavailable
from drivers.drawer import CashDrawer, EscposDrawer, FakeDrawer, RawSink
from drivers.printer import (
    EscposPrinter,
    FakePrinter,
    escpos_args_from,
    escpos_factory,
    status_channel_for,
)
from drivers.reconnect import ReconnectingScanner
from drivers.scale import FakeScale, Scale, ToledoScale
from drivers.scanner import BarcodeScanner, FakeScanner
from drivers.scanner_hw import EvdevScanner, SerialScanner
from drivers.spec import DeviceSpec, DevicesSpec

ESCPOS_KINDS = frozenset({"network", "serial", "usb", "file"})


class NoDevice:
    """Stands in for a device the config says is absent (kind "none")."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self) -> DeviceUnavailable:
        return DeviceUnavailable(f"no {self.name} configured", device=self.name)

    def print_receipt(self, doc: object) -> None:
        """Refuse: there is no printer."""
        raise self._refuse()

    def send_raw(self, payload: bytes) -> None:
        """Refuse: there is no device."""
        raise self._refuse()

    def kick(self, request: object) -> None:
        """Refuse: there is no drawer."""
        raise self._refuse()

    def read(self, timeout: float | None = None) -> str | None:
        """Refuse: there is no scanner."""
        raise self._refuse()

    def weigh(self) -> object:
        """Refuse: there is no scale."""
        raise self._refuse()

    def status(self) -> DeviceStatus:
        """Always offline, 'not configured'."""
        return DeviceStatus(online=False, detail="not configured")


PrinterDevice = EscposPrinter | FakePrinter | NoDevice


@dataclass
class DeviceSet:
    """The devices of one box."""

    printer: PrinterDevice
    drawer: CashDrawer
    scanner: BarcodeScanner
    scale: Scale | NoDevice | None = None

    def health(self) -> dict[str, dict[str, object]]:
        """Status of every device, for the health page and heartbeat."""
        found = {
            "printer": self.printer.status().to_dict(),
            "drawer": self.drawer.status().to_dict(),
            "scanner": self.scanner.status().to_dict(),
        }
        if self.scale is not None:
            found["scale"] = self.scale.status().to_dict()
        return found


def build_printer(settings: DeviceSpec) -> PrinterDevice:
    """A receipt printer for the settings."""
    if settings.kind == "fake":
        fake = FakePrinter(escpos_args=escpos_args_from(settings))
        if settings.options.get("fault"):
            fake.inject(str(settings.options["fault"]))
        return fake
    if settings.kind in ESCPOS_KINDS:
        return EscposPrinter(
            escpos_factory(settings),
            name=f"printer:{settings.kind}",
            escpos_args=escpos_args_from(settings),
            check_paper=bool(settings.options.get("check_paper", False)),
            status_channel=status_channel_for(settings),
        )
    if settings.kind == "none":
        return NoDevice("printer")
    raise ValueError(f"printer kind {settings.kind!r} is not supported")


def build_drawer(settings: DeviceSpec, printer: PrinterDevice) -> CashDrawer:
    """A cash drawer; ESC/POS kinds without their own transport use the printer's port."""
    opts = settings.options
    pin, on_ms, off_ms = (
        int(opts.get("pin", 2)),
        int(opts.get("on_ms", 100)),
        int(opts.get("off_ms", 100)),
    )
    if settings.kind == "fake":
        return FakeDrawer(pin=pin, on_ms=on_ms, off_ms=off_ms)
    if settings.kind in ESCPOS_KINDS:
        sink: RawSink = printer
        if settings.host or settings.path:
            sink = EscposPrinter(escpos_factory(settings), name=f"drawer:{settings.kind}")
        return EscposDrawer(sink, pin=pin, on_ms=on_ms, off_ms=off_ms)
    if settings.kind == "none":
        return NoDevice("drawer")
    raise ValueError(f"drawer kind {settings.kind!r} is not supported")


def build_scanner(settings: DeviceSpec) -> BarcodeScanner:
    """A barcode scanner for the settings."""
    opts = settings.options
    if settings.kind == "fake":
        feed = opts.get("feed_file")
        return FakeScanner(feed_file=str(feed) if feed else None)
    if settings.kind == "evdev":
        if not settings.path:
            raise ValueError("evdev scanner needs path (/dev/input/by-id/...)")
        evdev_scanner = EvdevScanner(
            settings.path,
            layout=str(opts.get("layout", "us")),
            grab=bool(opts.get("grab", True)),
            inter_key_timeout=float(opts.get("inter_key_ms", 100)) / 1000,
        )
        return ReconnectingScanner(evdev_scanner)
    if settings.kind == "serial":
        if not settings.path:
            raise ValueError("serial scanner needs path (/dev/serial/by-id/...)")
        baud = int(opts.get("baudrate", 9600))
        return ReconnectingScanner(SerialScanner(settings.path, baudrate=baud))
    if settings.kind == "none":
        return NoDevice("scanner")
    raise ValueError(f"scanner kind {settings.kind!r} is not supported")


def build_scale(settings: DeviceSpec) -> Scale | NoDevice:
    """A Toledo 8217 scale on a serial port, a fake, or none."""
    opts = settings.options
    if settings.kind == "fake":
        weight_file = opts.get("weight_file")
        return FakeScale(weight_file=str(weight_file) if weight_file else None)
    if settings.kind == "serial":
        if not settings.path:
            raise ValueError("serial scale needs path (/dev/serial/by-id/...)")
        return ToledoScale(
            settings.path,
            baudrate=int(opts.get("baudrate", 9600)),
            timeout=float(opts.get("timeout", 1.0)),
            decimals=int(opts.get("decimals", 3)),
            seven_e_one=str(opts.get("framing", "7E1")).upper() == "7E1",
        )
    if settings.kind == "none":
        return NoDevice("scale")
    raise ValueError(f"scale kind {settings.kind!r} is not supported")


def build_devices(devices: DevicesSpec) -> DeviceSet:
    """Every device of a box from its spec."""
    printer = build_printer(devices.printer)
    return DeviceSet(
        printer=printer,
        drawer=build_drawer(devices.drawer, printer),
        scanner=build_scanner(devices.scanner),
        scale=build_scale(devices.scale),
    )
