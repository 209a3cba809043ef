"""The stack harness boots on fresh ports when one it picked was taken before the bind
(scripts/sync_harness.py `start_fault_stack`; a suite run failed on that race once)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scripts import sync_harness
from scripts.demo import free_port
from scripts.sync_harness import healthy, start_fault_stack

pytestmark = pytest.mark.req("NFR-006")


def test_a_port_taken_between_pick_and_bind_is_picked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        picks = iter([free_port(), port])  # the first boot's box port is taken
        monkeypatch.setattr(sync_harness, "free_port", lambda: next(picks, None) or free_port())
        fs = start_fault_stack(tmp_path)
        try:
            assert fs.stack.box_port != port
            assert healthy(fs.stack.box_port)
            assert healthy(fs.stack.hub_port)
        finally:
            fs.stop()
