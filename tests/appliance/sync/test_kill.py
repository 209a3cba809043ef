"""Crash test (FR-303, NFR-004): SIGKILL the box mid-sync; the sale still arrives exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from posdomain.envelope import encode
from scripts.testkit.waiting import wait_until
from tests.appliance.acker import Acker
from tests.appliance.factories import PINS, make_config, seed_messages

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _query(db_path: str, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db_path, timeout=5)) as conn:
        return conn.execute(sql).fetchall()


class Box:
    """`python -m appliance ...` processes for one box config file."""

    def __init__(self, tmp_path: Path, mqtt_addr: tuple[str, int]) -> None:
        self.port = _free_port()
        self.config = make_config(
            tmp_path,
            bind=f"127.0.0.1:{self.port}",
            mqtt={"host": mqtt_addr[0], "port": mqtt_addr[1]},
        )
        self.path = tmp_path / "box.yaml"
        self.path.write_text(yaml.safe_dump(self.config.model_dump(mode="json")))
        self.logs = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        """Run a short subcommand to completion."""
        done = subprocess.run(
            [sys.executable, "-m", "appliance", *args, "--config", str(self.path)],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=True,
        )
        return done.stdout.decode()

    def start(self, command: str) -> subprocess.Popen[bytes]:
        """Start a long-running subcommand (serve/sync)."""
        log = (self.logs / f"{command}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", command, "--config", str(self.path)],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        """Kill whatever is still running."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    def unacked(self) -> int:
        """Outbox rows without a hub ack (read straight from the box database)."""
        return int(
            _query(self.config.database_path, "SELECT count(*) FROM outbox WHERE acked_at IS NULL")[
                0
            ][0]
        )


@pytest.fixture
def box(tmp_path: Path, mqtt_addr: tuple[str, int]) -> Iterator[Box]:
    """A migrated, seeded box run through its CLI."""
    proc_box = Box(tmp_path, mqtt_addr)
    proc_box.run("migrate")
    files = []
    for i, msg in enumerate(seed_messages()):
        target = tmp_path / f"down-{i}.json"
        target.write_bytes(encode(msg))
        files.append(str(target))
    assert '"applied": true' in proc_box.run("apply-down", *files)
    yield proc_box
    proc_box.stop_all()


def _sell_one(base: str) -> dict:
    session = requests.Session()
    wait_until(lambda: _up(session, base), timeout=60)
    assert (
        session.post(
            f"{base}/api/v1/auth/pin", json={"pin": PINS["cashier"]}, timeout=5
        ).status_code
        == 200
    )
    shift = session.post(f"{base}/api/v1/shifts", json={"opening_float": "0.00"}, timeout=5)
    assert shift.status_code == 201, shift.text
    assert (
        session.post(
            f"{base}/api/v1/basket/lines", json={"barcode": "4000000000013"}, timeout=5
        ).status_code
        == 201
    )
    resp = session.post(
        f"{base}/api/v1/basket/pay",
        json={"tendered": "5.00", "idempotency_key": "kill-test-0001"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    session.close()
    return resp.json()


def _up(session: requests.Session, base: str) -> bool:
    try:
        return session.get(f"{base}/api/v1/status", timeout=1).status_code == 200
    except requests.RequestException:  # not up yet, or too busy to answer within 1 s
        return False


@pytest.mark.req("FR-303", "NFR-004", "NFR-003")
def test_sigkill_mid_sync_then_restart_delivers_the_sale_exactly_once(
    box: Box, mqtt_addr: tuple[str, int]
) -> None:
    server = box.start("serve")
    agent = box.start("sync")
    sale = _sell_one(f"http://127.0.0.1:{box.port}")
    db = box.config.database_path
    # the agent publishes (the broker PUBACKs) but no hub is listening
    wait_until(
        lambda: _query(db, "SELECT attempts FROM outbox WHERE type='sale.completed'")[0][0] >= 1,
        timeout=60,
    )
    for proc in (agent, server):
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    queued = box.unacked()
    assert queued >= 2
    acker = Acker(mqtt_addr[0], mqtt_addr[1], box.config.box_id)
    try:
        acker.wait_ready()
        restarted = box.start("sync")
        wait_until(lambda: box.unacked() == 0, timeout=20)
        [event] = acker.of_type("sale.completed")
        assert event.payload["sale_id"] == sale["sale_id"]
        assert acker.deliveries[str(event.event_id)] == 1
        seqs = [r[0] for r in _query(db, "SELECT seq FROM outbox ORDER BY seq")]
        assert sorted(acker.events) == seqs
        time.sleep(0.5)
        assert acker.deliveries[str(event.event_id)] == 1  # nothing resent after the ack
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(15) == 0
    finally:
        acker.stop()
