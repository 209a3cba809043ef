"""A failed demo/test boot leaves no process behind (scripts/demo.boot): a stack that dies on
the way up is stopped before the error reaches the caller, which never got the stack."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import demo

started: list[subprocess.Popen[bytes]] = []


def _failing_boot(stack: demo.Stack, args: Any, env: dict[str, str], var: Path) -> dict[str, Any]:
    stack.start("hub-web", [sys.executable, "-c", "import time; time.sleep(120)"])
    started.append(stack.procs[-1][1])
    raise SystemExit("box web did not come up within 120s")


@pytest.mark.req("NFR-002")
def test_a_boot_that_fails_stops_what_it_started(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "_boot_into", _failing_boot)
    args = argparse.Namespace(hub_port=1, box_port=2, db_name="unused", var=str(tmp_path))
    with pytest.raises(SystemExit, match="did not come up"):
        demo.boot(args)
    assert started, "the failing boot started its process"
    assert started[0].poll() is not None  # stopped (and reaped), not left running
