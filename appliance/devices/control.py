"""Local control socket between the web app and the device service: drawer kicks, scale reads.

A kick must happen now or never, so it is not a database row: the web app sends one
JSON line over a Unix socket beside the box database and waits (at most the kick's
TTL) for the answer. The request carries its wall-clock send time; the service turns
that into the kick's age, so a request that sat too long is refused as STALE_KICK.
A scale read (`weigh`, `appliance.devices.scale_reading`) is asked the same way: the service
owns the serial port, the web app only ever sees a stable weight or a device reason code.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.base import DeviceError
from drivers.drawer import DEFAULT_KICK_TTL_S, CashDrawer, DrawerKick

log = logging.getLogger(__name__)
SOCKET_NAME = "devices.sock"


def socket_path(database_path: str) -> Path:
    """Where the control socket of a box lives (beside its database)."""
    return Path(database_path).resolve().parent / SOCKET_NAME


class KickFailed(Exception):
    """A kick did not open the drawer; `code` is a stable device error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ask(path: Path, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Send one command to the device service and return its answer; an unreachable service
    answers {"ok": false, "code": "DEVICE_UNAVAILABLE"}."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps(body).encode() + b"\n")
            answer = json.loads(sock.makefile("rb").readline() or b"{}")
    except (OSError, ValueError) as err:
        return {"ok": False, "code": "DEVICE_UNAVAILABLE", "message": f"not reachable: {err}"}
    return answer if isinstance(answer, dict) else {"ok": False, "code": "DEVICE_ERROR"}


def request_kick(path: Path, reason: str, ttl: float = DEFAULT_KICK_TTL_S) -> None:
    """Ask the device service to open the drawer now; raise KickFailed if it did not."""
    body = {"cmd": "kick", "reason": reason, "sent_at": time.time(), "ttl": ttl}
    answer = ask(path, body, ttl)
    if not answer.get("ok"):
        raise KickFailed(str(answer.get("code", "DEVICE_ERROR")), str(answer.get("message", "")))


Handler = Callable[[dict[str, Any]], dict[str, Any]]


def dispatch(handlers: dict[str, Handler]) -> Handler:
    """One handler serving each command (`cmd`) with its own handler."""

    def handle(body: dict[str, Any]) -> dict[str, Any]:
        handler = handlers.get(str(body.get("cmd")))
        if handler is None:
            return {"ok": False, "code": "VALIDATION_FAILED", "message": "unknown command"}
        return handler(body)

    return handle


def kick_handler(drawer: CashDrawer, on_error: Callable[[DeviceError], object]) -> Handler:
    """Serve kick requests with `drawer`, honouring the sender's TTL."""

    def handle(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("cmd") != "kick":
            return {"ok": False, "code": "VALIDATION_FAILED", "message": "unknown command"}
        age = max(0.0, time.time() - float(body.get("sent_at", 0)))
        ttl = float(body.get("ttl", DEFAULT_KICK_TTL_S))
        kick = DrawerKick(
            created_at=time.monotonic() - age, ttl=ttl, reason=str(body.get("reason", ""))
        )
        try:
            drawer.kick(kick)
        except DeviceError as err:
            on_error(err)
            return {"ok": False, "code": err.code, "message": err.message}
        return {"ok": True}

    return handle


class ControlServer:
    """A threaded Unix-socket server answering one JSON line per connection."""

    def __init__(self, path: Path, handle: Handler) -> None:
        self.path = path
        if path.exists():
            path.unlink()  # left behind by a killed service
        handler = self._make_handler(handle)
        self._server = socketserver.ThreadingUnixStreamServer(str(path), handler)
        self._server.daemon_threads = True
        os.chmod(path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _make_handler(handle: Handler) -> type[socketserver.StreamRequestHandler]:
        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    body = json.loads(self.rfile.readline() or b"{}")
                    answer = handle(body)
                except ValueError:
                    answer = {"ok": False, "code": "MALFORMED_JSON", "message": "bad request"}
                self.wfile.write(json.dumps(answer).encode() + b"\n")

        return _Handler

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and remove the socket file."""
        self._server.shutdown()
        self._server.server_close()
        if self.path.exists():
            self.path.unlink()
