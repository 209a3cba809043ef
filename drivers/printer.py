"""Receipt printers: the ReceiptPrinter interface, the ESC/POS implementation and a fake.

Rendering goes through python-escpos in every case: the fake renders into escpos's
`Dummy` printer, so tests assert on the very bytes a real printer would receive. The
real printer renders the whole job first and then sends it with one write, so a job
either reaches the transport complete or fails before any byte left.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from escpos import exceptions as escpos_exc
from escpos.escpos import Escpos
from escpos.printer import Dummy, File, Network, Serial, Usb

from drivers.base import (
    CoverOpen,
    DeviceError,
    DeviceStatus,
    DeviceTimeout,
    DeviceUnavailable,
    PaperOut,
)
from drivers.codepages import DEFAULT_CODEPAGE, check_codepage, fit_text
from drivers.printer_status import ChannelFactory, SerialChannel, SocketChannel, probe
from drivers.spec import DeviceSpec

Align = Literal["left", "center", "right"]
EscposFactory = Callable[[], Escpos]

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_USB_TIMEOUT_MS = 5000  # python-escpos' Usb default is 0 = wait forever
PAPER_OUT, PAPER_LOW = 0, 1  # escpos paper_status() values


@dataclass(frozen=True)
class ReceiptLine:
    """One printed line."""

    text: str
    bold: bool = False
    align: Align = "left"
    double: bool = False


@dataclass(frozen=True)
class ReceiptDoc:
    """A receipt as the printer sees it: lines, an optional barcode payload, a cut."""

    lines: tuple[ReceiptLine, ...]
    barcode: str | None = None
    cut: bool = True
    qr: str | None = None
    codepage: str = DEFAULT_CODEPAGE

    @classmethod
    def from_text(cls, *texts: str, barcode: str | None = None, cut: bool = True) -> ReceiptDoc:
        """Plain lines (convenience for demos and tests)."""
        return cls(tuple(ReceiptLine(t) for t in texts), barcode=barcode, cut=cut)

    def plain_text(self) -> str:
        """The text content, one line per line (for HTML receipts and assertions)."""
        return "\n".join(line.text for line in self.lines)


class ReceiptPrinter(Protocol):
    """What the till needs from a receipt printer."""

    def print_receipt(self, doc: ReceiptDoc) -> None:
        """Print one receipt or raise a DeviceError (nothing is retried here)."""

    def status(self) -> DeviceStatus:
        """Current health of the printer."""


def render(target: Escpos, doc: ReceiptDoc) -> None:
    """Write `doc` as ESC/POS commands to an escpos printer object, in the document's code
    page (set once; characters it lacks are transliterated visibly, `drivers.codepages`)."""
    target.charcode(check_codepage(doc.codepage))
    for line in doc.lines:
        # normal_textsize: python-escpos sends nothing for double=False, so without it every
        # line after a double-size one (the total) printed double too
        target.set(
            bold=line.bold,
            align=line.align,
            normal_textsize=not line.double,
            double_height=line.double,
            double_width=line.double,
        )
        target.textln(fit_text(line.text, doc.codepage))
    target.set(bold=False, align="left", normal_textsize=True)
    if doc.barcode:
        # CODE128 code set B takes any printable ASCII, e.g. a receipt id for returns.
        target.barcode("{B" + doc.barcode, "CODE128", function_type="B", check=True)
        target.ln()
    if doc.qr:
        # native GS ( k QR: no image library, the printer draws it
        target.qr(doc.qr, native=True, size=4, center=False)
    if doc.cut:
        target.cut()


def render_bytes(doc: ReceiptDoc, **escpos_args: Any) -> bytes:
    """The ESC/POS bytes of `doc` (rendered through escpos's Dummy printer)."""
    dummy = Dummy(**escpos_args)
    render(dummy, doc)
    out: bytes = dummy.output
    return out


def _device_error(err: BaseException, device: str) -> DeviceError:
    """Map a transport/library failure to our stable device errors."""
    if isinstance(err, (TimeoutError, socket.timeout)) or "timeout" in type(err).__name__.lower():
        return DeviceTimeout(f"{device} timed out", device=device, detail=str(err))
    return DeviceUnavailable(f"{device} is unavailable", device=device, detail=str(err))


# Failures a transport can raise: escpos errors, OS/socket/serial errors, pyusb errors
# (USBError is an IOError), RuntimeError when the USB backend is not installed, and
# AssertionError because escpos' Usb.open/_raw assert on a missing device.
_TRANSPORT_ERRORS = (escpos_exc.Error, OSError, RuntimeError, AssertionError, ValueError)


class EscposPrinter:
    """A real ESC/POS printer reached through a python-escpos transport.

    `factory` builds a fresh escpos printer object per job, so an unplugged printer
    that comes back works again without restarting the till. With `status_channel`
    the printer's own DLE EOT real-time status answers status() and, with
    `check_paper`, stops a job before any byte is sent to a printer out of paper.
    """

    def __init__(
        self,
        factory: EscposFactory,
        *,
        name: str = "printer",
        escpos_args: dict[str, Any] | None = None,
        check_paper: bool = False,
        status_channel: ChannelFactory | None = None,
    ) -> None:
        self._factory = factory
        self._status_channel = status_channel
        self.name = name
        self._escpos_args = escpos_args or {}
        self._check_paper = check_paper
        self._lock = threading.Lock()

    def print_receipt(self, doc: ReceiptDoc) -> None:
        """Render, then send the whole job in one write; raise DeviceError on failure."""
        payload = render_bytes(doc, **self._escpos_args)
        with self._lock:
            if self._check_paper and self._status_channel is not None:
                self._refuse_unprintable(self._realtime())
            device = self._open()
            try:
                if (
                    self._check_paper
                    and not self._status_channel
                    and (device.paper_status() == PAPER_OUT)
                ):
                    raise PaperOut("printer is out of paper", device=self.name)
                device._raw(payload)
            except _TRANSPORT_ERRORS as err:
                raise _device_error(err, self.name) from err
            finally:
                _close_quietly(device)

    def send_raw(self, payload: bytes) -> None:
        """Send raw ESC/POS bytes (used by the drawer wired to this printer)."""
        with self._lock:
            device = self._open()
            try:
                device._raw(payload)
            except _TRANSPORT_ERRORS as err:
                raise _device_error(err, self.name) from err
            finally:
                _close_quietly(device)

    def _realtime(self) -> DeviceStatus:
        """The printer's DLE EOT status (offline if it cannot be reached)."""
        assert self._status_channel is not None
        try:
            return probe(self._status_channel)
        except DeviceError as err:
            return DeviceStatus(online=False, detail=err.code)

    def _refuse_unprintable(self, status: DeviceStatus) -> None:
        """Raise before sending a job the printer cannot print."""
        if status.paper_out:
            raise PaperOut("printer is out of paper", device=self.name)
        if status.cover_open:
            raise CoverOpen("printer cover is open", device=self.name)
        if not status.online:
            raise DeviceUnavailable("printer is offline", device=self.name, detail=status.detail)

    def status(self) -> DeviceStatus:
        """Real-time status if configured; else online if the transport opens (+ paper)."""
        with self._lock:
            if self._status_channel is not None:
                return self._realtime()
            try:
                device = self._open()
            except DeviceError as err:
                return DeviceStatus(online=False, detail=err.code)
            try:
                if not self._check_paper:
                    return DeviceStatus(online=True)
                paper = device.paper_status()
                return DeviceStatus(
                    online=True, paper_low=paper == PAPER_LOW, paper_out=paper == PAPER_OUT
                )
            except _TRANSPORT_ERRORS as err:
                return DeviceStatus(online=False, detail=_device_error(err, self.name).code)
            finally:
                _close_quietly(device)

    def _open(self) -> Escpos:
        try:
            device = self._factory()
            device.open()
        except _TRANSPORT_ERRORS as err:
            raise _device_error(err, self.name) from err
        return device


def _close_quietly(device: Escpos) -> None:
    """Close a transport; a failing close must not hide the job's own outcome."""
    try:
        device.close()
    except _TRANSPORT_ERRORS:
        return


@dataclass
class FakePrinter:
    """In-memory printer for tests and demos: records docs and real ESC/POS bytes.

    Fault injection: `fault` is None, "paper_out", "unplugged" or "timeout"; with
    `fault_times` set, the fault clears itself after that many failed jobs.
    """

    name: str = "fake-printer"
    escpos_args: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None
    fault_times: int | None = None
    paper_low: bool = False
    docs: list[ReceiptDoc] = field(default_factory=list)
    jobs: list[bytes] = field(default_factory=list)

    def inject(self, fault: str | None, times: int | None = None) -> None:
        """Make the next jobs fail with `fault` (None clears it)."""
        if fault not in (None, "paper_out", "unplugged", "timeout"):
            raise ValueError(f"unknown printer fault {fault!r}")
        self.fault, self.fault_times = fault, times

    @property
    def raw(self) -> bytes:
        """Every byte 'printed' so far."""
        return b"".join(self.jobs)

    def print_receipt(self, doc: ReceiptDoc) -> None:
        """Record the doc and its bytes, or raise the injected fault."""
        self._maybe_fail()
        self.jobs.append(render_bytes(doc, **self.escpos_args))
        self.docs.append(doc)

    def send_raw(self, payload: bytes) -> None:
        """Record raw bytes (drawer kicks through the printer)."""
        self._maybe_fail()
        self.jobs.append(payload)

    def status(self) -> DeviceStatus:
        """Status reflecting the injected fault."""
        if self.fault in ("unplugged", "timeout"):
            return DeviceStatus(online=False, detail=self.fault)
        return DeviceStatus(
            online=True, paper_low=self.paper_low, paper_out=self.fault == "paper_out"
        )

    def _maybe_fail(self) -> None:
        fault = self.fault
        if fault is None:
            return
        if self.fault_times is not None:
            self.fault_times -= 1
            if self.fault_times <= 0:
                self.fault, self.fault_times = None, None
        if fault == "paper_out":
            raise PaperOut("printer is out of paper", device=self.name)
        if fault == "timeout":
            raise DeviceTimeout("printer timed out", device=self.name)
        raise DeviceUnavailable("printer is unplugged", device=self.name)


class ClosingNetwork(Network):  # type: ignore[misc]
    """escpos' Network, but a failed connect closes its socket.

    Upstream `Network.open` drops the socket without closing it when the printer is
    unreachable, which leaks one descriptor per retry while a printer is unplugged.
    """

    def open(self, raise_not_found: bool = True) -> None:
        """Connect (closing the half-made socket on failure)."""
        self.close()  # no-op unless a previous connection is open
        try:
            self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as err:
            if raise_not_found:
                raise escpos_exc.DeviceNotFoundError(
                    f"Could not open socket for {self.host}: {err}"
                ) from err


def escpos_args_from(settings: DeviceSpec) -> dict[str, Any]:
    """Profile and code page options: `options.profile`, `options.encoding`.

    Without an encoding, escpos's magic encoder picks a code page per character, so
    names like 'Müller' print correctly; a fixed `encoding` pins one code page.
    """
    args: dict[str, Any] = {}
    opts = settings.options
    if opts.get("profile"):
        args["profile"] = str(opts["profile"])
    if opts.get("encoding"):
        args["magic_encode_args"] = {"encoding": str(opts["encoding"]), "defaultsymbol": "?"}
    return args


def status_channel_for(settings: DeviceSpec) -> ChannelFactory | None:
    """A DLE EOT status channel for network/serial printers (`options.realtime_status`)."""
    opts = settings.options
    if not opts.get("realtime_status", False):
        return None
    timeout = float(opts.get("status_timeout", 0.5))
    if settings.kind == "network" and settings.host:
        host, port = settings.host, settings.port or 9100
        return lambda: SocketChannel(host, port, timeout)
    if settings.kind == "serial" and settings.path:
        path, baud = settings.path, int(opts.get("baudrate", 9600))
        return lambda: SerialChannel(path, baud, timeout)
    return None


def escpos_factory(settings: DeviceSpec) -> EscposFactory:
    """A builder of python-escpos transport objects for a network/serial/file/usb device."""
    opts, args = settings.options, escpos_args_from(settings)
    timeout = float(opts.get("timeout", DEFAULT_TIMEOUT_S))
    if settings.kind == "network":
        if not settings.host:
            raise ValueError("network printer needs host")
        host, port = settings.host, settings.port or 9100
        return lambda: ClosingNetwork(host=host, port=port, timeout=timeout, **args)
    if settings.kind == "serial":
        if not settings.path:
            raise ValueError("serial printer needs path (use /dev/serial/by-id/...)")
        path, baud = settings.path, int(opts.get("baudrate", 9600))
        return lambda: Serial(devfile=path, baudrate=baud, timeout=timeout, **args)
    if settings.kind == "file":
        if not settings.path:
            raise ValueError("file printer needs path")
        fpath = settings.path
        return lambda: File(devfile=fpath, **args)
    if settings.kind == "usb":
        return _usb_factory(settings, args)
    raise ValueError(f"device kind {settings.kind!r} is not an ESC/POS transport")


def _usb_factory(settings: DeviceSpec, args: dict[str, Any]) -> EscposFactory:
    """USB: a kernel usblp path prints through File (no pyusb/usblp fight); else pyusb."""
    if settings.path:
        path = settings.path
        return lambda: File(devfile=path, **args)
    kwargs = usb_kwargs(settings)

    def build() -> Escpos:
        # Without pyusb, escpos' Usb raises RuntimeError even from __del__: refuse early.
        if not Usb.is_usable():
            raise DeviceUnavailable("USB backend (pyusb) is not installed", device="printer:usb")
        return Usb(**kwargs, **args)

    return build


def usb_kwargs(settings: DeviceSpec) -> dict[str, Any]:
    """idVendor/idProduct and an explicit timeout (escpos' default 0 waits forever)."""
    opts = settings.options
    vendor, product = _usb_id(opts.get("vendor_id")), _usb_id(opts.get("product_id"))
    if vendor is None or product is None:
        raise ValueError("usb printer needs path or options.vendor_id and options.product_id")
    timeout_ms = int(opts.get("timeout_ms", DEFAULT_USB_TIMEOUT_MS))
    return {"idVendor": vendor, "idProduct": product, "timeout": timeout_ms}


def _usb_id(value: object) -> int | None:
    """USB ids from config: 0x04b8, '0x04b8' or '04b8'."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return int(str(value), 16)
