"""DLE EOT real-time status against a local TCP printer that answers like a real one."""

from __future__ import annotations

import pytest

from drivers.base import CoverOpen, DeviceUnavailable, GarbledRead, PaperOut
from drivers.factory import build_printer
from drivers.printer import EscposPrinter, ReceiptDoc
from drivers.printer_status import RealtimeStatus, status_request, valid_status_byte
from drivers.spec import DeviceSpec
from tests.drivers.conftest import StatusPrinter, TcpSink

ONLINE, OFFLINE = 0x16, 0x1E  # DLE EOT 1: bit 3 = offline
NO_CAUSE, COVER, PAPER_STOP = 0x12, 0x16, 0x32  # DLE EOT 2
PAPER_OK, NEAR_END, PAPER_END = 0x12, 0x1E, 0x72  # DLE EOT 4


def printer_for(port: int, **options: object) -> EscposPrinter:
    """A network printer with real-time status switched on."""
    settings = DeviceSpec(
        kind="network",
        host="127.0.0.1",
        port=port,
        options={"realtime_status": True, "status_timeout": 0.3, **options},
    )
    built = build_printer(settings)
    assert isinstance(built, EscposPrinter)
    return built


def test_status_bytes_decode() -> None:
    assert status_request(4) == b"\x10\x04\x04"
    assert valid_status_byte(0x12)
    assert not valid_status_byte(0xFF)
    status = RealtimeStatus.parse(OFFLINE, COVER, NEAR_END)
    assert (status.offline, status.cover_open, status.paper_near_end) == (True, True, True)
    with pytest.raises(GarbledRead):
        RealtimeStatus.parse(0xFF, NO_CAUSE, PAPER_OK)


@pytest.mark.req("FR-500", "FR-304")
@pytest.mark.parametrize(
    ("answers", "state"),
    [
        ({1: ONLINE, 2: NO_CAUSE, 4: PAPER_OK}, "online"),
        ({1: ONLINE, 2: NO_CAUSE, 4: NEAR_END}, "paper_low"),
        ({1: OFFLINE, 2: PAPER_STOP, 4: PAPER_END}, "paper_out"),
        ({1: OFFLINE, 2: COVER, 4: PAPER_OK}, "cover_open"),
        ({1: OFFLINE, 2: 0x52, 4: PAPER_OK}, "offline"),
    ],
)
def test_printer_reports_its_own_state(
    status_printer: StatusPrinter, answers: dict[int, int], state: str
) -> None:
    status_printer.answers = answers
    status = printer_for(status_printer.port).status()
    assert status.state == state
    assert b"\x10\x04\x01" in status_printer.received(b"\x10\x04\x04")


@pytest.mark.req("FR-304")
def test_paper_out_and_cover_open_stop_the_job_before_any_byte(
    status_printer: StatusPrinter,
) -> None:
    printer = printer_for(status_printer.port, check_paper=True)
    status_printer.answers = {1: OFFLINE, 2: PAPER_STOP, 4: PAPER_END}
    with pytest.raises(PaperOut):
        printer.print_receipt(ReceiptDoc.from_text("NEVER PRINTED"))
    status_printer.answers = {1: OFFLINE, 2: COVER, 4: PAPER_OK}
    with pytest.raises(CoverOpen):
        printer.print_receipt(ReceiptDoc.from_text("NEVER PRINTED"))
    status_printer.answers = {1: ONLINE, 2: NO_CAUSE, 4: PAPER_OK}
    printer.print_receipt(ReceiptDoc.from_text("PRINTED"))
    data = status_printer.received(b"PRINTED")
    assert b"PRINTED" in data
    assert b"NEVER PRINTED" not in data


def test_silent_printer_is_online_with_unknown_status(tcp_sink: TcpSink) -> None:
    status = printer_for(tcp_sink.port).status()
    assert (status.state, status.detail) == ("online", "status unknown")


def test_unreachable_printer_is_offline(closed_port: int) -> None:
    printer = printer_for(closed_port, check_paper=True)
    assert printer.status().state == "offline"
    with pytest.raises(DeviceUnavailable):
        printer.print_receipt(ReceiptDoc.from_text("x"))
