"""Fault-test fixtures: one isolated real stack on a PRIVATE Mosquitto for the package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.sync_harness import FaultStack, start_fault_stack


@pytest.fixture(scope="package")
def fault_stack(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str
) -> Iterator[FaultStack]:
    """Hub + box processes on their own broker (small max_queued_messages), database and ids.

    The broker holds at most 2 in-flight + 3 queued messages per client, so a stopped or
    slow hub subscriber makes it drop (while PUBACKing) — every scenario runs under that
    pitfall (PITFALLS "A broker PUBACK does not mean the hub has the data").
    """
    fs = start_fault_stack(
        tmp_path_factory.mktemp("faults"), max_queued_messages=3, max_inflight_messages=2
    )
    try:
        yield fs
    finally:
        fs.stop()
