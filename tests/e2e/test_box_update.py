"""Box updates with real releases (FR-703, FR-804): three artifacts built by `just build`'s
code (this tree, a changed copy, a copy whose new migration fails on purpose), installed on
a copy of the demo box (its identity, database and the running hub for the sync round trip):
good update kept, broken one switched back by itself with the failing check as the reason,
and a SIGKILL at every step of both leaves a box whose `boot` lands on a release that passes
its own health gate."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.updates.layout import Layout, read_state
from firmware_config.schema import load_box_config
from posdomain import topics
from posdomain.envelope import DownMessage, decode
from scripts.build_release import ROOT, build
from scripts.demo_smoke import login_of

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow, pytest.mark.req("FR-703")]
GOOD_STEPS = ("verify", "shift_check", "install", "snapshot", "prepare", "switch", "health")
GOOD_STEPS += ("mark_good",)
BACK_STEPS = ("restore", "switch_back", "mark_rolled_back")
MARKER = "RELEASE_MARK = 'second'\n"
BROKEN = '''"""Broken on purpose (tests/e2e/test_box_update.py)."""


def up(db):
    """Fail like a migration that meets data it did not expect."""
    raise RuntimeError("broken on purpose")
'''


def _variant(tmp: Path, name: str, files: dict[str, str]) -> Path:
    src = tmp / name
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "dist", "__pycache__", ".*_cache"),
    )
    for rel, text in files.items():
        path = src / rel
        path.write_text(path.read_text() + text if path.exists() else text)
    return src


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """r1 = this tree, r2 = a changed copy, r3 = a copy with a failing migration."""
    tmp = tmp_path_factory.mktemp("builds")
    out = tmp / "dist"
    r1 = build("DEV", out=out)
    good = _variant(tmp, "good", {"appliance/updates/__init__.py": MARKER})
    r2 = build("DEV", source=good, out=out)
    bad = _variant(tmp, "bad", {"appliance/migrations/0099_broken_on_purpose.py": BROKEN})
    r3 = build("DEV", source=bad, out=out)
    return {"r1": r1, "r2": r2, "r3": r3}


def _box_copy(stack: Any, into: Path) -> Path:
    """The demo box's config pointing at a consistent copy of its database."""
    into.mkdir(parents=True)
    cfg = json.loads((stack.var / "box.json").read_text())
    db = into / "box.sqlite3"
    conn = sqlite3.connect(cfg["database_path"])
    conn.execute("VACUUM INTO ?", (str(db),))
    conn.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE shifts SET state = 'closed' WHERE state = 'open'")  # updates wait
    conn.commit()
    conn.close()
    cfg["database_path"] = str(db)
    path = into / "box.json"
    path.write_text(json.dumps(cfg))
    return path


# the gate's sync round trip goes through the shared demo stack's hub, which answers slowly
# while the rest of the suite runs beside it: give it longer than a store's default 10 s
SLOW_LINK = {"CFPOS_HEALTH_SYNC_TIMEOUT_S": "45"}


def _cli(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("env", {**os.environ, **SLOW_LINK})
    return subprocess.run(
        [sys.executable, "-m", "appliance.updates", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False, **kw,
    )  # fmt: skip


def _update(root: Path, config: Path, artifact: Path) -> dict[str, Any]:
    done = _cli("update", "--root", str(root), "--config", str(config), str(artifact))
    assert done.stdout, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _current_is_healthy(root: Path, config: Path) -> str:
    """Boot, then run the health gate from the release `current` points at."""
    booted = _cli("boot", "--root", str(root), "--config", str(config))
    assert booted.returncode == 0, booted.stderr
    layout = Layout(root)
    name = layout.current_name()
    assert name is not None
    env = {**os.environ, "PYTHONPATH": str(layout.site(name))}
    gate = subprocess.run(
        [sys.executable, "-m", "appliance.updates", "health", "--config", str(config)],
        cwd=layout.release(name), env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    report = json.loads(gate.stdout.strip().splitlines()[-1])
    assert report["ok"], (name, report, gate.stderr[-500:])
    assert read_state(layout).get("pending") is None
    return name


def _kill_at(root: Path, config: Path, artifact: Path, step: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.updates", "update", "--root", str(root),
         "--config", str(config), str(artifact)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == f"step {step}":
            os.killpg(proc.pid, signal.SIGKILL)  # power cut: the updater and its gate
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, f"{step} was never reached"


def test_good_update_is_kept_and_a_broken_one_switches_back_by_itself(stack, releases, tmp_path):
    running, _seed = stack
    config = _box_copy(running, tmp_path / "box")
    root = tmp_path / "box" / "releases-root"
    r1, r2, r3 = releases["r1"], releases["r2"], releases["r3"]
    first = _update(root, config, r1)
    assert first["outcome"] == "GOOD", first
    second = _update(root, config, r2)
    assert second["outcome"] == "GOOD", second
    assert second["checks"]["sync"]["ok"]
    layout = Layout(root)
    assert layout.current_name() == r2.name
    assert MARKER in (layout.site(r2.name) / "appliance" / "updates" / "__init__.py").read_text()
    third = _update(root, config, r3)
    assert third["outcome"] == "ROLLED_BACK"
    assert third["reason"].startswith("health:migrations: migration failed")
    assert layout.current_name() == r2.name
    assert read_state(layout)["good"] == r2.name
    conn = sqlite3.connect(json.loads(config.read_text())["database_path"])
    assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = 99").fetchone() == (
        0,
    )
    conn.close()
    reports = sorted(layout.reports.glob("*.json"))
    assert [json.loads(p.read_text())["outcome"] for p in reports] == [
        "GOOD",
        "GOOD",
        "ROLLED_BACK",
    ]
    assert _current_is_healthy(root, config) == r2.name


def test_sigkill_at_every_step_boots_a_working_release(stack, releases, tmp_path):
    running, _seed = stack
    template = tmp_path / "template"
    config = _box_copy(running, template)
    root = template / "releases-root"
    assert _update(root, config, releases["r1"])["outcome"] == "GOOD"
    plan = [(releases["r2"], s) for s in GOOD_STEPS] + [(releases["r3"], s) for s in BACK_STEPS]
    landed = {}
    for i, (artifact, step) in enumerate(plan):
        box = tmp_path / f"kill-{i}"
        shutil.copytree(template, box, symlinks=True)
        cfg = json.loads((box / "box.json").read_text())
        cfg["database_path"] = str(box / "box.sqlite3")
        (box / "box.json").write_text(json.dumps(cfg))
        _kill_at(box / "releases-root", box / "box.json", artifact, step)
        landed[step] = _current_is_healthy(box / "releases-root", box / "box.json")
    assert set(landed.values()) <= {releases["r1"].name, releases["r2"].name}
    assert landed["verify"] == releases["r1"].name
    assert landed["switch"] == releases["r1"].name  # cut before the gate: back to the old one


def _retained(host: str, port: int, topic: str) -> bytes:
    got: queue.Queue[bytes] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    sub.on_message = lambda _c, _u, msg: got.put(bytes(msg.payload))
    sub.connect(host, port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    try:
        return got.get(timeout=15)
    finally:
        sub.loop_stop()
        sub.disconnect()


class _Owner:
    """The hub API as the demo tenant owner (session cookie and CSRF token)."""

    def __init__(self, port: int, user: dict[str, Any]) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.http = requests.Session()
        resp = self.http.post(
            self.base + "/auth/login",
            json={"username": user["username"], "password": user["password"]},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        self.http.headers["X-CSRF-Token"] = resp.json()["csrf_token"]

    def call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.http.request(method, self.base + path.removeprefix("/api/v1"), timeout=10, **kw)
        assert resp.status_code < 400, resp.text
        return resp.json()


@pytest.mark.req("FR-804")
def test_the_hub_offers_a_release_and_the_box_fetches_it_over_mqtt_and_keeps_it(
    stack, releases, tmp_path, mqtt_addr
):
    """Publish r2 on the running hub, roll it out to the demo tenant, let the box hold the
    retained offer like its sync agent does, then `fetch-update`: chunks over MQTT, checked,
    installed, health-gated, kept; the report is queued for the hub as release.reported."""
    running, seed = stack
    config = _box_copy(running, tmp_path / "box")
    cfg = json.loads(config.read_text())
    root = tmp_path / "box" / "releases-root"
    r1, r2 = releases["r1"], releases["r2"]
    first = _update(root, config, r1)
    assert first["outcome"] == "GOOD", first
    published = subprocess.run(
        [sys.executable, "-m", "hub", "release-publish", str(r2)],
        cwd=ROOT, env=running.env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert published.returncode == 0, published.stderr[-800:]
    owner = _Owner(running.hub_port, login_of(seed, "TENANT_OWNER"))
    made = owner.call(
        "POST",
        f"/api/v1/tenants/{cfg['tenant_id']}/rollouts",
        json={"artifact": r2.name, "strategy": "percent", "canary_percent": 100,
              "reason": "e2e offer"},
    )  # fmt: skip
    try:
        raw = _retained(*mqtt_addr, topics.box_down(cfg["box_id"], "release"))
        offer = decode(raw, DownMessage)
        assert offer.body["artifact"] == r2.name
        db = open_database(cfg["database_path"])
        with db.connection_context():
            assert down_messages.apply_down(BoxContext(load_box_config(config)), offer)
        db.close()
        done = _cli("fetch-update", "--root", str(root), "--config", str(config))
        lines = done.stdout.strip().splitlines()
        report = json.loads(lines[-1])
        assert report["outcome"] == "GOOD", (report, done.stderr[-800:])
        assert lines[0] == "step fetch"
        assert Layout(root).current_name() == r2.name
        assert (root / "downloads" / r2.name / "manifest.json").is_file()
        conn = sqlite3.connect(cfg["database_path"])
        queued = [json.loads(p)["payload"] for (p,) in conn.execute(
            "SELECT payload FROM outbox WHERE type = 'release.reported'")]  # fmt: skip
        conn.close()
        assert [q["outcome"] for q in queued] == ["GOOD", "GOOD"]  # r1 by hand, r2 fetched
        boxes = owner.call("GET", f"/api/v1/tenants/{cfg['tenant_id']}/rollouts/{made['id']}")
        state = {b["box_id"]: b["state"] for b in boxes["boxes"]}
        assert state[cfg["box_id"]] in ("OFFERED", "GOOD")  # checked in by its chunk requests
    finally:
        owner.call("POST", f"/api/v1/tenants/{cfg['tenant_id']}/rollouts/{made['id']}/cancel")
