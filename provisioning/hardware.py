"""What the box is (model, serial, OS), sent at enrolment and in the commissioning report."""

from __future__ import annotations

import platform
import socket
from pathlib import Path
from typing import Any

DEVICE_TREE = Path("/proc/device-tree")


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().rstrip(b"\x00\n").decode("utf-8", "replace") or None
    except OSError:
        return None


def hardware_summary() -> dict[str, Any]:
    """A small JSON-safe description of this machine (Raspberry Pi model/serial if present)."""
    return {
        "hostname": socket.gethostname(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "model": _read(DEVICE_TREE / "model"),
        "serial": _read(DEVICE_TREE / "serial-number"),
    }
