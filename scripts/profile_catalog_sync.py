"""Time the catalog catch-up of N products in-process (issue 15 item 7), without a broker.

    python -m scripts.profile_catalog_sync [--rows 100000] [--profile] [--messages FILE]

A throwaway PostgreSQL database (as `bench_hub`) with N generated products imported, and a
fresh box database (migrated, nothing else); then the
catch-up exactly as hub and box run it, minus MQTT: the hub builds each answer window
(`hub.catalog.chunks.build_chunks`) and encodes its messages, the box decodes each one and
applies it (`down_messages.apply_down`: staging, then the one set-wise apply), until the box
holds the head. Prints wall and CPU seconds per step (`--profile`: also cProfile's top).

`--messages FILE`: the hub's encoded messages are written to FILE (one a line: canonical JSON
has no raw newline) when it does not exist and read from it when it does, so the box side runs
again and again (A/B against another tree) without PostgreSQL or the import.
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


def _hub_messages(tenant: str, head: int) -> list[bytes]:
    """Every catch-up message the hub sends a box holding nothing, window after window."""
    build = _timed("hub: build window", build_chunks)
    enc = _timed(
        "hub: encode messages",
        lambda bodies: [encode(_message(int(b["to_version"]), b)) for b in bodies],
    )
    since, out = 0, []
    while since < head:
        with tenant_tx(tenant):
            bodies = build(tenant, "b-none", since)
        out.extend(enc(bodies))
        since = int(bodies[-1]["to_version"])
    return out


def _built(rows: int, saved: Path | None) -> tuple[int, list[bytes]]:
    """(head, messages): read from `saved` if it exists, else imported and built (PostgreSQL)
    and written there."""
    if saved is not None and saved.exists():
        head_line, *lines = saved.read_bytes().splitlines()
        return int(head_line), lines
    import psycopg2

    name = f"cfpos_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    try:
        migrate(f"{ADMIN}/{name}")
        hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
        imported = bench_import(rows)
        tenant = imported["tenant_id"]
        print(f"import {imported['seconds']} s, load {os.getloadavg()[0]:.1f}")
        with tenant_tx(tenant):
            head = store.current_version(tenant)
        messages = _hub_messages(tenant, head)
    finally:
        hub_db.db.close()
        drop_database(name)
    if saved is not None:
        saved.write_bytes(b"\n".join([str(head).encode(), *messages]))
    return head, messages


def _box_catch_up(head: int, messages: list[bytes], profile: bool) -> float:
    """Decode and apply every message on a fresh box database; wall seconds."""
    dec = _timed("box: decode", lambda raw: decode(raw, DownMessage))
    apply = _timed("box: apply_down", down_messages.apply_down)
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
            down_messages.apply_down(ctx, _message(head, {"head": True, "version": head}))
            prof = cProfile.Profile() if profile else None
            started = time.perf_counter()
            if prof is not None:
                prof.enable()
            for raw in messages:
                if not apply(ctx, dec(raw)):
                    raise SystemExit("chunk not applied")
            if prof is not None:
                prof.disable()
            total = time.perf_counter() - started
            if catch_up.catalog_held() != head:
                raise SystemExit(f"box holds {catch_up.catalog_held()}, not the head {head}")
        box_db.close()
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    return total


def main() -> int:
    """Run and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--messages", type=Path, help="messages file (written if absent)")
    args = ap.parse_args()
    logging.disable(logging.INFO)
    head, messages = _built(args.rows, args.messages)
    for fn in ("chunk_of", "stage_products", "_apply_stage"):
        if hasattr(catch_up, fn):  # an older tree may lack one (A/B)
            setattr(catch_up, fn, _timed(f"box:   {fn}", getattr(catch_up, fn)))
    rebuild = getattr(catch_up, "rebuild", None)
    for fn in ("stage", "swap"):
        if rebuild is not None:
            setattr(rebuild, fn, _timed(f"box:   rebuild.{fn}", getattr(rebuild, fn)))
    cpu = time.process_time()
    total = _box_catch_up(head, messages, args.profile)
    cpu = time.process_time() - cpu
    size = sum(len(m) for m in messages)
    print(
        f"catch-up to version {head}: {total:.2f} s wall, box CPU {cpu:.2f} s,"
        f" {len(messages)} chunks, {size / 1e6:.1f} MB, load {os.getloadavg()[0]:.1f}"
    )
    for step, (wall, cpu) in SPENT.items():
        print(f"  {step:28s} wall {wall:7.2f} s  cpu {cpu:7.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
