"""Time the catalog catch-up of N products in-process (issue 15 item 7), without a broker.

    python -m scripts.profile_catalog_sync [--rows 100000] [--profile]

A throwaway PostgreSQL database (as `bench_hub`) with N generated products imported, and a
fresh box database (migrated, nothing else); then the
catch-up exactly as hub and box run it, minus MQTT: the hub builds each answer window
(`hub.catalog.chunks.build_chunks`) and encodes its messages, the box decodes each one and
applies it (`down_messages.apply_down`: staging, then the one set-wise apply), until the box
holds the head. Prints wall and CPU seconds per step (`--profile`: also cProfile's top).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.catalog import catch_up, down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.migrations import migrate as box_migrate
from appliance.sync.box_state import ensure_box_state
from firmware_config.schema import BoxConfig
from hub.catalog import store
from hub.catalog.chunks import build_chunks
from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.demo.catalog_bench import bench_import
from hub.migrate import migrate
from posdomain.contract import DownKind
from posdomain.envelope import DownMessage, decode, encode
from scripts.bench_hub import ADMIN
from scripts.demo import drop_database

TENANT, BRANCH = "t-profile", "b-profile"

SPENT: dict[str, list[float]] = {}


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = SPENT.setdefault(name, [0.0, 0.0])
            entry[0] += time.perf_counter() - wall
            entry[1] += time.process_time() - cpu

    return run


def _message(version: int, body: dict[str, Any]) -> DownMessage:
    return DownMessage(
        kind=DownKind.CATALOG,
        version=version,
        tenant_id=TENANT,
        branch_id=BRANCH,
        issued_at=datetime.now(UTC),
        body=body,
    )


def _catch_up(ctx: BoxContext, tenant: str, head: int) -> tuple[int, int, int]:
    """Windows, chunks and bytes until the box holds `head`."""
    build = _timed("hub: build window", build_chunks)
    enc = _timed(
        "hub: encode messages",
        lambda bodies: [encode(_message(int(b["to_version"]), b)) for b in bodies],
    )
    dec = _timed("box: decode", lambda raw: decode(raw, DownMessage))
    apply = _timed("box: apply_down", down_messages.apply_down)
    since, windows, chunks, size = 0, 0, 0, 0
    while since < head:
        with tenant_tx(tenant):
            bodies = build(tenant, "b-none", since)
        for raw in enc(bodies):
            size, chunks = size + len(raw), chunks + 1
            if not apply(ctx, dec(raw)):
                raise SystemExit(f"chunk not applied after version {since}")
        since, windows = int(bodies[-1]["to_version"]), windows + 1
    return windows, chunks, size


def main() -> int:
    """Run and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    logging.disable(logging.INFO)
    import psycopg2

    name = f"cfpos_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    for fn in ("stage_products", "_apply_stage", "_barcode_rows"):
        setattr(catch_up, fn, _timed(f"box:   {fn}", getattr(catch_up, fn)))
    try:
        migrate(f"{ADMIN}/{name}")
        hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
        imported = bench_import(args.rows)
        tenant = imported["tenant_id"]
        print(f"import {imported['seconds']} s, load {os.getloadavg()[0]:.1f}")
        with tempfile.TemporaryDirectory() as tmp:
            cfg = BoxConfig.model_validate(
                {
                    "box_id": f"box-{uuid.uuid4().hex[:12]}",
                    "tenant_id": TENANT,
                    "branch_id": BRANCH,
                    "till_name": "Till 1",
                    "database_path": str(Path(tmp) / "box.sqlite3"),
                    "secret_key_file": None,
                }
            )
            box_db = open_database(cfg.database_path)
            with box_db.connection_context():
                box_migrate(box_db)
                ensure_box_state(cfg)
                ctx = BoxContext(cfg)
                with tenant_tx(tenant):
                    head = store.current_version(tenant)
                down_messages.apply_down(ctx, _message(head, {"head": True, "version": head}))
                prof = cProfile.Profile() if args.profile else None
                started = time.perf_counter()
                if prof is not None:
                    prof.enable()
                windows, chunks, size = _catch_up(ctx, tenant, head)
                if prof is not None:
                    prof.disable()
                total = time.perf_counter() - started
            box_db.close()
        if prof is not None:
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        print(
            f"catch-up of {args.rows} products: {total:.2f} s, {windows} windows, {chunks} chunks,"
            f" {size / 1e6:.1f} MB, load {os.getloadavg()[0]:.1f}"
        )
        for step, (wall, cpu) in SPENT.items():
            print(f"  {step:28s} wall {wall:7.2f} s  cpu {cpu:7.2f} s")
    finally:
        hub_db.db.close()
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
