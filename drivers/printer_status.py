"""ESC/POS real-time status (DLE EOT n): ask the printer itself whether it can print.

`DLE EOT n` is answered immediately, even while the printer is offline, with one
status byte per request. Every valid answer has bit 1 and bit 4 set and bits 0 and
7 clear (0xx1xx10), which is how we tell a real answer from stray bytes:

* n=1 printer status   - bit 3: offline
* n=2 offline cause    - bit 2: cover open, bit 5: stopped by paper end, bit 6: error
* n=4 roll paper sensor - bits 2+3: paper near end, bits 5+6: paper end

A printer that does not answer at all is reported online with status unknown (many
cheap network printers ignore DLE EOT); one that answers garbage is a GarbledRead.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from drivers.base import DeviceStatus, DeviceUnavailable, GarbledRead

DLE, EOT = 0x10, 0x04
FIXED_MASK, FIXED_BITS = 0x93, 0x12
PRINTER, OFFLINE_CAUSE, PAPER_SENSOR = 1, 2, 4


def status_request(n: int) -> bytes:
    """The DLE EOT n command bytes."""
    return bytes((DLE, EOT, n))


def valid_status_byte(value: int) -> bool:
    """True for a byte with the fixed bits every DLE EOT answer carries."""
    return value & FIXED_MASK == FIXED_BITS


@dataclass(frozen=True)
class RealtimeStatus:
    """Decoded answers to DLE EOT 1, 2 and 4."""

    offline: bool
    cover_open: bool
    paper_near_end: bool
    paper_end: bool
    error: bool

    @classmethod
    def parse(cls, printer: int, offline_cause: int, paper: int) -> RealtimeStatus:
        """Decode the three status bytes (GarbledRead if any lacks the fixed bits)."""
        for value in (printer, offline_cause, paper):
            if not valid_status_byte(value):
                raise GarbledRead(f"not a DLE EOT status byte: 0x{value:02x}", device="printer")
        return cls(
            offline=bool(printer & 0x08),
            cover_open=bool(offline_cause & 0x04),
            paper_near_end=paper & 0x0C == 0x0C,
            paper_end=paper & 0x60 == 0x60 or bool(offline_cause & 0x20),
            error=bool(offline_cause & 0x40),
        )

    def to_device_status(self) -> DeviceStatus:
        """The generic device status (online means able to print)."""
        detail = "error" if self.error else ""
        return DeviceStatus(
            online=not self.offline or self.cover_open or self.paper_end,
            paper_low=self.paper_near_end,
            paper_out=self.paper_end,
            cover_open=self.cover_open,
            detail=detail,
        )


class StatusChannel(Protocol):
    """A byte pipe to the printer: write a request, read the one-byte answer."""

    def write(self, data: bytes) -> None:
        """Send bytes."""

    def read_byte(self) -> int | None:
        """One byte, or None if nothing arrived before the channel's timeout."""

    def close(self) -> None:
        """Release the channel."""


def query(channel: StatusChannel) -> RealtimeStatus | None:
    """Ask DLE EOT 1, 2 and 4; None if the printer does not answer (status unknown)."""
    answers: list[int] = []
    for n in (PRINTER, OFFLINE_CAUSE, PAPER_SENSOR):
        channel.write(status_request(n))
        value = channel.read_byte()
        if value is None:
            return None
        answers.append(value)
    return RealtimeStatus.parse(*answers)


class SocketChannel:
    """DLE EOT over a TCP connection to a network printer (port 9100)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as err:
            raise DeviceUnavailable(
                "printer is unreachable", device=f"{host}:{port}", detail=str(err)
            ) from err

    def write(self, data: bytes) -> None:
        """Send a request."""
        self._sock.sendall(data)

    def read_byte(self) -> int | None:
        """One answer byte or None on timeout."""
        try:
            data = self._sock.recv(1)
        except TimeoutError:
            return None
        return data[0] if data else None

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


class SerialChannel:
    """DLE EOT over a serial port."""

    def __init__(self, path: str, baudrate: int, timeout: float) -> None:
        try:
            self._port = serial.Serial(path, baudrate, timeout=timeout)
        except serial.SerialException as err:
            raise DeviceUnavailable(
                "printer port is missing", device=path, detail=str(err)
            ) from err

    def write(self, data: bytes) -> None:
        """Send a request."""
        self._port.write(data)

    def read_byte(self) -> int | None:
        """One answer byte or None on timeout."""
        data = self._port.read(1)
        return data[0] if data else None

    def close(self) -> None:
        """Close the port."""
        self._port.close()


ChannelFactory = Callable[[], StatusChannel]


def probe(open_channel: ChannelFactory) -> DeviceStatus:
    """Open a channel, query it, and map the answer (or silence) to a DeviceStatus."""
    channel = open_channel()
    try:
        answer = query(channel)
    except OSError as err:
        return DeviceStatus(online=False, detail=str(err))
    finally:
        channel.close()
    if answer is None:
        return DeviceStatus(online=True, detail="status unknown")
    return answer.to_device_status()
