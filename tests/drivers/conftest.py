"""A real TCP 'printer' on 127.0.0.1 that collects the bytes it receives."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from collections.abc import Iterator

import pytest


class TcpSink:
    """Accepts connections on an ephemeral port and stores every byte received."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self._chunks: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                while True:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        break
                    if not data:
                        break
                    with self._lock:
                        self._chunks.append(data)

    def received(self, at_least: bytes = b"", timeout: float = 3.0) -> bytes:
        """Bytes so far, waiting until `at_least` shows up (or the timeout)."""
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            with self._lock:
                data = b"".join(self._chunks)
            if at_least in data:
                return data
            deadline.wait(0.02)
        return data

    def close(self) -> None:
        """Stop accepting and release the port."""
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=2)


@pytest.fixture
def tcp_sink() -> Iterator[TcpSink]:
    """A running TCP sink, closed after the test."""
    sink = TcpSink()
    yield sink
    sink.close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


class PtyDevice:
    """The device end of a real pseudo-terminal pair; the driver opens `path`."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        self.path = os.ttyname(self._slave)
        self.received = b""
        self._replies: dict[bytes, list[bytes]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write(self, data: bytes) -> None:
        """Send bytes as the device."""
        os.write(self.master, data)

    def answer(self, request: bytes, *replies: bytes) -> None:
        """Reply to each `request` byte with the next reply (the last one repeats)."""
        self._replies[request] = list(replies)
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 64)
            except OSError:
                return
            self.received += data
            for byte in data:
                replies = self._replies.get(bytes([byte]))
                if replies:
                    os.write(self.master, replies.pop(0) if len(replies) > 1 else replies[0])

    def unplug(self) -> None:
        """Close the device end (reads on the driver end then fail with EIO)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty_device() -> Iterator[PtyDevice]:
    """A pseudo-terminal pair: the test plays the device, the driver opens .path."""
    dev = PtyDevice()
    yield dev
    dev.unplug()


class StatusPrinter(TcpSink):
    """A TCP 'printer' that answers DLE EOT n with configured status bytes, like a real one."""

    def __init__(self, answers: dict[int, int] | None = None) -> None:
        self.answers = answers if answers is not None else {1: 0x16, 2: 0x12, 4: 0x12}
        super().__init__()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        pending = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._chunks.append(data)
            pending += data
            while (at := pending.find(b"\x10\x04")) >= 0 and len(pending) >= at + 3:
                n = pending[at + 2]
                pending = pending[at + 3 :]
                if n in self.answers:
                    conn.sendall(bytes([self.answers[n]]))


@pytest.fixture
def status_printer() -> Iterator[StatusPrinter]:
    """A running DLE EOT-answering TCP printer."""
    printer = StatusPrinter()
    yield printer
    printer.close()
