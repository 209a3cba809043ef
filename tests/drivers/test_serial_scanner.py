"""Serial-mode scanner read through a real pseudo-terminal pair (no mocks)."""

from __future__ import annotations

import pytest

from drivers.base import DeviceUnavailable
from drivers.reconnect import ReconnectingScanner
from drivers.scanner_hw import SerialScanner
from tests.drivers.conftest import PtyDevice


@pytest.mark.req("FR-300")
def test_codes_end_at_cr_or_lf(pty_device: PtyDevice) -> None:
    scanner = SerialScanner(pty_device.path)
    assert scanner.status().online  # the port is open before the scans arrive
    pty_device.write(b"4006381333931\r\n12345670\n")
    assert scanner.read(1.0) == "4006381333931"
    assert scanner.read(1.0) == "12345670"
    assert scanner.read(0.1) is None
    scanner.close()


def test_half_code_waits_for_its_terminator(pty_device: PtyDevice) -> None:
    scanner = SerialScanner(pty_device.path)
    assert scanner.status().online  # the port is open before the scans arrive
    pty_device.write(b"40063")
    assert scanner.read(0.15) is None, "a code without CR must not be returned truncated"
    pty_device.write(b"81333931\r")
    assert scanner.read(1.0) == "4006381333931"
    scanner.close()


def test_unplug_reports_unavailable_then_reconnect_backs_off(pty_device: PtyDevice) -> None:
    scanner = SerialScanner(pty_device.path)
    assert scanner.status().online  # the port is open before the scans arrive
    pty_device.write(b"111\r")
    assert scanner.read(1.0) == "111"
    pty_device.unplug()
    with pytest.raises(DeviceUnavailable):
        scanner.read(1.0)
    assert scanner.status().state == "unplugged"
    wrapped = ReconnectingScanner(scanner)
    reads = [wrapped.read(0.05) for _ in range(5)]
    assert reads == [None] * 5
    assert wrapped.attempts <= 2, "an unplugged port must not be retried on every read"
