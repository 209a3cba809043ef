"""A real TCP 'printer' on 127.0.0.1 that collects the bytes it receives."""

from __future__ import annotations

import socket
import threading
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
