"""The whole product started as separate processes on the real PostgreSQL and Mosquitto."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from scripts.demo import ROOT, Stack, boot, drop_database, free_port
from scripts.demo_smoke import BoxClient, HubClient, login_of


@pytest.fixture(scope="package")
def stack(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str, mqtt_addr: tuple[str, int]
) -> Iterator[tuple[Stack, dict[str, Any]]]:
    """The demo stack in its own database and folder, on free ports."""
    db_name = f"cfpos_test_e2e_{uuid.uuid4().hex[:10]}"
    # own box id and ingest client id, so a demo running on the same broker cannot collide
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CFPOS_DEMO_BOX_ID", f"box-e2e-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("CFPOS_INGEST_CLIENT_ID", f"cfpos-hub-ingest-e2e-{uuid.uuid4().hex[:8]}")
    var = tmp_path_factory.mktemp("e2e")
    monkeypatch.setenv("CFPOS_RELEASES_DIR", str(var / "releases"))  # the hub's artifact store
    # webhooks to local receivers only (tests/e2e/test_integrations_portal.py)
    monkeypatch.setenv("CFPOS_ALERT_WEBHOOK_ALLOWLIST", '["http://127.0.0.1:"]')
    args = argparse.Namespace(
        hub_port=free_port(),
        box_port=free_port(),
        db_name=db_name,
        var=str(var),
    )
    running, seed = boot(args)
    try:
        yield running, seed
    finally:
        running.stop()
        drop_database(db_name)
        monkeypatch.undo()


CHROMIUM = os.environ.get("CFPOS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (installed by scripts/ensure-browser.sh)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is missing: run scripts/ensure-browser.sh (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


UPDATE_SCREENSHOTS = "CFPOS_UPDATE_SCREENSHOTS"


@pytest.fixture(scope="package")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save screenshots: a temporary folder, or docs/screenshots when
    CFPOS_UPDATE_SCREENSHOTS=1 (regenerate the docs' images on purpose, not on every run)."""
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path_factory.mktemp("screenshots")


def cashier(stack: Stack, seed: dict[str, Any]) -> BoxClient:
    """A box client logged in as the demo cashier, the till's shift open (no sale without)."""
    box = BoxClient(stack.box_port)
    box.wait_for_master_data()
    box.login(login_of(seed, "CASHIER")["pin"])
    box.ensure_shift()
    return box


def hub_as(stack: Stack, seed: dict[str, Any], role: str) -> HubClient:
    """A hub client logged in with the first demo login of that role."""
    hub = HubClient(stack.hub_port)
    user = login_of(seed, role)
    hub.login(user["username"], user["password"])
    return hub


def log_lines_with(stack: Stack, name: str, needle: str) -> list[dict[str, Any]]:
    """JSON log lines of one process that mention `needle`."""
    out = []
    for line in (Path(stack.var) / f"{name}.log").read_text(errors="replace").splitlines():
        if needle in line and line.startswith("{"):
            out.append(json.loads(line))
    return out
