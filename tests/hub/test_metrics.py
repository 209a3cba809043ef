"""Prometheus /metrics (FR-500, NFR-006): names by convention, state gauges from the
database, and correct sums under a real gunicorn with two workers (multiprocess mode)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.core.models import utcnow
from scripts.demo import free_port
from scripts.testkit.waiting import wait_until
from tests.hub.ops_helpers import add_box, beat, new_tenant

pytestmark = [pytest.mark.pg]
ROOT = Path(__file__).resolve().parents[2]


def _families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.req("FR-500", "NFR-006")
def test_metrics_expose_queues_with_prometheus_names(app, client):
    tenant, [branch] = new_tenant()
    box = add_box(tenant, branch)
    beat(tenant, box, branch, utcnow(), queued=7, print_queue=2, print_failed=1)
    client.get("/healthz")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    line = re.search(
        rf'cfpos_box_outbox_depth{{box="{box}",branch="{branch}",tenant="{tenant}"}} (\S+)', text
    )
    assert line is not None
    assert float(line[1]) == 7.0
    assert f'cfpos_box_print_failed_jobs{{box="{box}"' in text
    names = set(_families(text))
    for wanted in (
        "cfpos_hub_http_request_duration_seconds",
        "cfpos_quarantine_messages",
        "cfpos_reconciliation_open_items",
        "cfpos_alerts_open",
        "cfpos_backup_age_seconds",
        "cfpos_box_oldest_unsynced_age_seconds",
        "cfpos_hub_ingest_batch_duration_seconds",
        "cfpos_hub_ingest_batches",
    ):
        assert wanted in names, wanted
    assert "sale_id=" not in text  # no per-sale labels
    uuid_like = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-")
    assert not uuid_like.search(text)  # routes are URL rules (<sale_id>), never real ids
    assert 'route="/healthz"' in text


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback test server
        return bytes(resp.read())


@pytest.mark.req("FR-500", "NFR-006")
@pytest.mark.slow
def test_gunicorn_workers_are_summed_and_the_directory_is_wiped_at_start(hub_urls, tmp_path):
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    (prom_dir / "counter_99999.db").write_bytes(b"stale from an earlier run")
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(prom_dir),
        "CFPOS_HUB_DATABASE_URL": hub_urls[1],
    }
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "hub/gunicorn_conf.py",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "hub.app:create_app()",
    ]
    server = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ok(f"{base}/healthz"), timeout=30, what="gunicorn answering")
        assert not (prom_dir / "counter_99999.db").exists()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(_get, [f"{base}/healthz"] * 60))
        text = _get(f"{base}/metrics").decode()
    finally:
        server.terminate()
        server.wait(timeout=20)
    pids = {p.name.rsplit("_", 1)[-1] for p in prom_dir.glob("histogram_*.db")}
    assert len(pids) == 2  # both workers answered, each wrote its own file
    count = re.search(
        r'cfpos_hub_http_request_duration_seconds_count\{method="GET",'
        r'route="/healthz",status="2xx"\} (\S+)',
        text,
    )
    assert count is not None
    assert float(count[1]) >= 61  # 60 + the readiness probes, summed across both workers


def _ok(url: str) -> bool:
    try:
        return _get(url) != b""
    except OSError:
        return False
