"""One contract suite for every ReceiptPrinter: the fake and a real ESC/POS printer over TCP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.base import DeviceTimeout, DeviceUnavailable, PaperOut
from drivers.printer import (
    EscposPrinter,
    FakePrinter,
    ReceiptDoc,
    ReceiptLine,
    escpos_factory,
    render_bytes,
    usb_kwargs,
)
from drivers.spec import DeviceSpec
from tests.drivers.conftest import TcpSink

FULL_CUT = b"\x1dV\x00"
BOLD_ON = b"\x1bE\x01"
CODEPAGE_CHANGE = b"\x1bt"

DOC = ReceiptDoc(
    (
        ReceiptLine("Cosmic Forge Grocery", bold=True, align="center"),
        ReceiptLine("Apples 1kg        1.99"),
        ReceiptLine("TOTAL             1.99", bold=True),
    ),
    barcode="R-000123",
)

Harness = tuple[object, Callable[[bytes], bytes]]


@pytest.fixture(params=["fake", "escpos-network"])
def printer(request: pytest.FixtureRequest, tcp_sink: TcpSink) -> Iterator[Harness]:
    """(printer, bytes-received) for the fake and for a real Network printer."""
    if request.param == "fake":
        fake = FakePrinter()
        yield fake, lambda _marker: fake.raw
        return
    settings = DeviceSpec(kind="network", host="127.0.0.1", port=tcp_sink.port)
    real = EscposPrinter(escpos_factory(settings), name="printer:network")
    yield real, tcp_sink.received


@pytest.mark.req("FR-304")
def test_receipt_bytes_contain_text_bold_barcode_and_cut(printer: Harness) -> None:
    dev, received = printer
    dev.print_receipt(DOC)  # type: ignore[attr-defined]
    data = received(FULL_CUT)
    assert b"Cosmic Forge Grocery" in data
    assert b"TOTAL             1.99" in data
    assert BOLD_ON in data
    assert b"{BR-000123" in data
    assert data.endswith(FULL_CUT)


@pytest.mark.req("FR-304")
def test_status_online(printer: Harness) -> None:
    dev, _ = printer
    status = dev.status()  # type: ignore[attr-defined]
    assert status.online
    assert not status.paper_out


@pytest.mark.req("FR-304")
def test_no_cut_when_doc_says_so(printer: Harness) -> None:
    dev, received = printer
    dev.print_receipt(ReceiptDoc.from_text("COPY", "no cut", cut=False))  # type: ignore[attr-defined]
    data = received(b"no cut\n")
    assert b"COPY" in data
    assert b"no cut" in data
    assert FULL_CUT not in data


@pytest.mark.req("FR-304")
def test_same_bytes_from_fake_and_real(tcp_sink: TcpSink) -> None:
    fake = FakePrinter()
    fake.print_receipt(DOC)
    settings = DeviceSpec(kind="network", host="127.0.0.1", port=tcp_sink.port)
    EscposPrinter(escpos_factory(settings)).print_receipt(DOC)
    assert tcp_sink.received(FULL_CUT) == fake.raw


@pytest.mark.req("FR-304")
def test_non_ascii_names_switch_code_page() -> None:
    data = render_bytes(ReceiptDoc.from_text("Müller Größe"))
    assert CODEPAGE_CHANGE in data
    assert "Müller".encode("cp437") in data
    assert "Müller".encode() not in data


@pytest.mark.req("FR-304")
def test_fixed_encoding_from_settings() -> None:
    fake = FakePrinter(escpos_args={"magic_encode_args": {"encoding": "CP858"}})
    fake.print_receipt(ReceiptDoc.from_text("Preis 2,50 €"))
    assert "2,50 €".encode("cp858") in fake.raw


@pytest.mark.req("FR-304")
@pytest.mark.parametrize(
    ("fault", "error"),
    [("paper_out", PaperOut), ("unplugged", DeviceUnavailable), ("timeout", DeviceTimeout)],
)
def test_fake_faults_print_nothing(fault: str, error: type[Exception]) -> None:
    fake = FakePrinter()
    fake.inject(fault)
    with pytest.raises(error):
        fake.print_receipt(DOC)
    assert fake.docs == []
    assert fake.raw == b""
    status = fake.status()
    assert status.paper_out if fault == "paper_out" else not status.online


@pytest.mark.req("FR-304")
def test_fake_fault_clears_after_n_jobs_for_retry() -> None:
    fake = FakePrinter()
    fake.inject("paper_out", times=2)
    for _ in range(2):
        with pytest.raises(PaperOut):
            fake.print_receipt(DOC)
    fake.print_receipt(DOC)
    assert len(fake.docs) == 1


def test_fake_rejects_unknown_fault() -> None:
    with pytest.raises(ValueError, match="unknown printer fault"):
        FakePrinter().inject("on_fire")


@pytest.mark.req("FR-304")
def test_unplugged_network_printer_raises_device_unavailable(closed_port: int) -> None:
    settings = DeviceSpec(
        kind="network", host="127.0.0.1", port=closed_port, options={"timeout": 1}
    )
    printer = EscposPrinter(escpos_factory(settings), name="printer:network")
    with pytest.raises(DeviceUnavailable) as info:
        printer.print_receipt(DOC)
    assert info.value.code == "DEVICE_UNAVAILABLE"
    assert not printer.status().online


@pytest.mark.req("FR-304")
def test_printer_back_after_unplug_prints_again(tcp_sink: TcpSink) -> None:
    settings = DeviceSpec(kind="network", host="127.0.0.1", port=tcp_sink.port)
    printer = EscposPrinter(escpos_factory(settings))
    printer.print_receipt(ReceiptDoc.from_text("first"))
    printer.print_receipt(ReceiptDoc.from_text("second"))
    data = tcp_sink.received(b"second")
    assert b"first" in data
    assert b"second" in data
    assert tcp_sink.connections == 2


def test_file_printer_writes_escpos(tmp_path: pytest.TempPathFactory) -> None:
    target = tmp_path / "lp0"  # type: ignore[operator]
    target.write_bytes(b"")
    printer = EscposPrinter(escpos_factory(DeviceSpec(kind="file", path=str(target))))
    printer.print_receipt(DOC)
    assert FULL_CUT in target.read_bytes()


def test_missing_serial_port_is_unavailable() -> None:
    settings = DeviceSpec(kind="serial", path="/dev/serial/by-id/no-such-printer")
    with pytest.raises(DeviceUnavailable):
        EscposPrinter(escpos_factory(settings)).print_receipt(DOC)


def test_usb_without_backend_or_device_is_unavailable() -> None:
    settings = DeviceSpec(kind="usb", options={"vendor_id": "0x04b8", "product_id": "0e15"})
    with pytest.raises(DeviceUnavailable):
        EscposPrinter(escpos_factory(settings)).print_receipt(DOC)


def test_usb_gets_explicit_timeout() -> None:
    settings = DeviceSpec(kind="usb", options={"vendor_id": 0x04B8, "product_id": 0x0E15})
    assert usb_kwargs(settings) == {"idVendor": 0x04B8, "idProduct": 0x0E15, "timeout": 5000}


def test_usb_with_kernel_path_prints_through_file(tmp_path: pytest.TempPathFactory) -> None:
    target = tmp_path / "lp0"  # type: ignore[operator]
    target.write_bytes(b"")
    printer = EscposPrinter(escpos_factory(DeviceSpec(kind="usb", path=str(target))))
    printer.print_receipt(DOC)
    assert b"R-000123" in target.read_bytes()


@pytest.mark.parametrize(
    "settings",
    [
        DeviceSpec(kind="network"),
        DeviceSpec(kind="serial"),
        DeviceSpec(kind="file"),
        DeviceSpec(kind="usb"),
        DeviceSpec(kind="fake"),
    ],
)
def test_incomplete_transport_settings_rejected(settings: DeviceSpec) -> None:
    with pytest.raises(ValueError, match=r"needs|not supported|not an ESC/POS"):
        escpos_factory(settings)
