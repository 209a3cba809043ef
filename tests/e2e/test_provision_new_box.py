"""Issue 5, as a field tech would: enrol a new box with a one-time code, self-test, sell on it.

Runs against the real hub of the e2e stack (gunicorn, ingest worker, PostgreSQL, Mosquitto).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.demo import ROOT, Stack, free_port
from scripts.demo_smoke import BoxClient, login_of
from scripts.sync_harness import healthy
from scripts.testkit.waiting import wait_until
from tests.e2e.conftest import hub_as

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one field-tech command as the tech would type it."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def new_code(stack: Stack, seed: dict[str, Any], till: str) -> str:
    """An enrolment code created by the tenant owner for the demo branch."""
    hub = hub_as(stack, seed, "TENANT_OWNER")
    resp = hub.http.post(
        hub.base + "/enrolment-codes",
        json={"branch_id": seed["box_branch_id"], "till_name": till},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["code"])


@pytest.fixture
def provisioned(
    stack: tuple[Stack, dict[str, Any]], tmp_path: Path
) -> Iterator[tuple[Path, int, list[subprocess.Popen[bytes]]]]:
    """A second box enrolled with a code, its web app and sync agent running."""
    running, seed = stack
    port = free_port()
    code = new_code(running, seed, f"Till {uuid.uuid4().hex[:4]}")
    out = tmp_path / "etc"
    res = run(
        [
            "-m",
            "provisioning",
            "enrol",
            "--hub",
            f"http://127.0.0.1:{running.hub_port}",
            "--code",
            code,
            "--out",
            str(out),
            "--profile",
            "demo-fakes",
            "--database",
            str(tmp_path / "box.sqlite3"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        running.env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    config = next(out.glob("box.y*ml"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "appliance", cmd, "--config", str(config)],
            cwd=ROOT,
            env=running.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for cmd in ("serve", "sync")
    ]
    try:
        yield config, port, procs
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


@pytest.mark.req("FR-001", "FR-002", "NFR-005", "FR-303")
def test_code_is_single_use(stack: tuple[Stack, dict[str, Any]], tmp_path: Path) -> None:
    running, seed = stack
    code = new_code(running, seed, "Till single-use")
    hub = f"http://127.0.0.1:{running.hub_port}"
    first = run(
        [
            "-m",
            "provisioning",
            "enrol",
            "--hub",
            hub,
            "--code",
            code,
            "--out",
            str(tmp_path / "a"),
            "--database",
            str(tmp_path / "a.sqlite3"),
        ],
        running.env,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    again = run(
        [
            "-m",
            "provisioning",
            "enrol",
            "--hub",
            hub,
            "--code",
            code,
            "--out",
            str(tmp_path / "b"),
            "--database",
            str(tmp_path / "b.sqlite3"),
        ],
        running.env,
    )
    assert again.returncode != 0
    assert "ENROLMENT_USED" in again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr


@pytest.mark.req("FR-300", "FR-303", "NFR-005")
def test_enrolled_box_self_tests_and_its_sale_reaches_the_hub(
    stack: tuple[Stack, dict[str, Any]], provisioned: tuple[Path, int, Any]
) -> None:
    running, seed = stack
    config, port, _ = provisioned
    box_id = yaml.safe_load(config.read_text())["box_id"]
    assert box_id != seed["box_id"], "a new box gets a new identity"

    selftest = run(
        [
            "-m",
            "provisioning",
            "selftest",
            "--config",
            str(config),
            "--report-to",
            f"http://127.0.0.1:{running.hub_port}",
            "--scan-timeout",
            "5",
        ],
        running.env,
    )
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr

    wait_until(lambda: healthy(port), 30, "the provisioned box's web app")
    box = BoxClient(port)
    box.wait_for_master_data()
    box.login(login_of(seed, "CASHIER")["pin"])
    box.ensure_shift()
    sale = box.sell(box.first_barcodes(2), "100.00")
    hub = hub_as(running, seed, "TENANT_OWNER")
    on_hub = hub.wait_for_sale(sale["sale_id"])
    assert on_hub["box_id"] == box_id
    report = hub.http.get(hub.base + f"/boxes/{box_id}/commissioning", timeout=10)
    assert report.status_code == 200, report.text
