"""A fresh machine with no PostgreSQL or broker still runs the demo: SQLite hub + amqtt."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from scripts.demo import ROOT, free_port

pytestmark = [pytest.mark.slow]


@pytest.mark.req("FR-800", "FR-303")
def test_demo_falls_back_to_embedded_hub_and_broker_and_still_syncs(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        CFPOS_DEMO_EMBEDDED="1",
        CFPOS_DEMO_BOX_ID=f"box-emb-{uuid.uuid4().hex[:8]}",
        CFPOS_INGEST_CLIENT_ID=f"ingest-emb-{uuid.uuid4().hex[:8]}",
    )
    env.pop("CFPOS_HUB_DATABASE_URL", None)
    env.pop("CFPOS_MQTT_URL", None)
    argv = [
        sys.executable, "-m", "scripts.demo", "--smoke", "--var", str(tmp_path),
        "--hub-port", str(free_port()), "--box-port", str(free_port()),
    ]  # fmt: skip
    res = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert "APP-LEVEL ISOLATION ONLY" in out
    assert "embedded amqtt" in out
    assert "smoke: sale rang on the box and arrived at the hub" in out
    assert (tmp_path / "hub.sqlite3").exists()
