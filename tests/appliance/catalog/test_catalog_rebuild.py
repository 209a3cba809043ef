"""A large catalog download built beside the catalog in force and swapped in (FR-200, FR-303;
issue 15 item 7): nothing of it is in force until its last chunk, all of it then; a box killed
while staging or in the middle of the swap keeps its old catalog and finishes after restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from peewee import SqliteDatabase

from appliance.catalog import catch_up, down_messages, rebuild
from appliance.catalog import products as box_products
from appliance.core.context import BoxContext
from appliance.sync.box_state import held_versions
from firmware_config.schema import BoxConfig
from posdomain.barcodes import check_digit
from posdomain.envelope import decode, encode
from posdomain.errors import PosError
from tests.appliance.factories import catalog_head, chunk, product

pytestmark = pytest.mark.req("FR-200", "FR-303")

SIZE = 3000  # above the lowered REBUILD_MIN, far above the seeded catalog


@pytest.fixture(autouse=True)
def _small_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads of 1 000 products or more are rebuilt (production: REBUILD_MIN)."""
    monkeypatch.setattr(rebuild, "REBUILD_MIN", 1000)


def _items(first: int, last: int) -> list[dict[str, Any]]:
    out = []
    for n in range(first, last + 1):
        stem = f"48{n:010d}"
        out.append(product(f"p-R{n}", f"R{n}", f"Rebuilt item {n} plum", [stem + check_digit(stem)],
                           "2.25", version=n))  # fmt: skip
    return out


def _chunks(held: int) -> list[Any]:
    """The download of SIZE products above `held` in chunks of 500 (p-milk renamed in it)."""
    items = _items(held + 1, held + SIZE)
    items[7]["id"], items[7]["name"] = "p-milk", "Renamed milk plum"
    items[7]["barcodes"] = ["4000000000013"]
    items[9]["barcodes"] = [*items[9]["barcodes"], "4000000000037"]  # p-gum's: claimed
    # a product of the first chunk changes again in the second: renamed, another barcode
    items[600] = {**items[10], "name": "Twice staged damson", "barcodes": ["036000291452"],
                  "version": items[600]["version"]}  # fmt: skip
    out, at = [], held
    for n in range(0, SIZE, 500):
        part = items[n : n + 500]
        top = part[-1]["version"]
        out.append(chunk(at, top, part, last=top == held + SIZE))
        at = top
    return out


def _count(db: SqliteDatabase, sql: str) -> int:
    return int(db.execute_sql(sql).fetchone()[0])


def _schema(db: SqliteDatabase) -> dict[str, Any]:
    """What the till relies on: columns, indexes, foreign keys and triggers of the catalog."""
    out: dict[str, Any] = {}
    for table in ("products", "barcodes"):
        out[table] = [r[1:] for r in db.execute_sql(f"PRAGMA table_info({table})").fetchall()]
        out[f"{table} fk"] = [r[2:] for r in db.execute_sql(f"PRAGMA foreign_key_list({table})")]
    out["indexes and triggers"] = db.execute_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
        " AND sql IS NOT NULL ORDER BY name"
    ).fetchall()
    fts = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'products_fts'")
    out["fts"] = fts.fetchone()[0].replace('"products_fts"', "products_fts")  # renamed: quoted
    return out


def _in_force(db: SqliteDatabase) -> int:
    return _count(db, "SELECT count(*) FROM products WHERE id LIKE 'p-R%'")


def test_a_large_download_is_built_beside_the_catalog_and_swapped_in_at_once(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    before = _schema(box_db)
    held = catch_up.catalog_held()
    messages = _chunks(held)
    assert down_messages.apply_down(ctx, catalog_head(held + SIZE))
    for msg in messages[:-1]:
        assert down_messages.apply_down(ctx, msg)
        assert _in_force(box_db) == 0, "a partial download must never be in force"
        assert catch_up.catalog_held() == held
    assert catch_up._rebuilding() is True
    # only the download is staged: the rest of the catalog is copied in by the swap
    assert _count(box_db, "SELECT count(*) FROM products_next") == SIZE - 500 - 1  # one twice
    assert _count(box_db, "SELECT count(*) FROM products_next WHERE id = 'p-bread'") == 0
    assert box_products.search("plum") == []
    assert {p["name"] for p in box_products.search("Milk 1L")} == {"Milk 1L"}
    with pytest.raises(PosError):
        box_products.resolve_scan(messages[0].body["products"][0]["barcodes"][0], [])
    assert down_messages.apply_down(ctx, messages[-1])
    assert catch_up.catalog_held() == held + SIZE
    assert catch_up.staged_top() is None
    assert _in_force(box_db) == SIZE - 2
    twice = messages[1].body["products"][100]
    assert box_products.resolve_scan("036000291452", []).product.id == twice["id"]
    with pytest.raises(PosError):  # its barcode of the first chunk went with that version
        box_products.resolve_scan(messages[0].body["products"][10]["barcodes"][0], [])
    assert box_products.search(f"Rebuilt item {held + 11} plum") == []  # its first name
    assert box_products.search("damson")[0]["id"] == twice["id"]
    assert (
        box_products.resolve_scan("4000000000037", []).product.id
        == messages[0].body["products"][9]["id"]
    )
    last = messages[-1].body["products"][-1]
    assert box_products.resolve_scan(last["barcodes"][0], []).product.id == last["id"]
    assert box_products.resolve_scan("4000000000013", []).product.name == "Renamed milk plum"
    assert box_products.resolve_scan("4000000000020", []).product.id == "p-bread"  # kept
    assert box_products.search("Milk 1L") == []  # the old name left the index
    assert {p["name"] for p in box_products.search("Renamed milk")} == {"Renamed milk plum"}
    assert len(box_products.search("plum", limit=50)) == 50
    assert box_products.search("Rye Bread")[0]["id"] == "p-bread"
    assert _schema(box_db) == before
    for table in ("products_next", "barcodes_next", "products_next_fts_docsize"):
        assert _count(box_db, f"SELECT count(*) FROM {table}") == 0
    audit = box_db.execute_sql(
        "SELECT details FROM audit_log WHERE action = 'down.catalog.applied' ORDER BY seq DESC"
    ).fetchone()
    assert json.loads(audit[0]) == {"version": held + SIZE, "previous": held, "products": SIZE - 1}
    # the FTS triggers live on the swapped-in table: a small change afterwards is indexed
    top = held + SIZE
    renamed = product(
        "p-bread", "BRD1", "Sourdough loaf", ["4000000000020"], "2.60", version=top + 1
    )
    assert down_messages.apply_down(ctx, catalog_head(top + 1))
    assert down_messages.apply_down(ctx, chunk(top, top + 1, [renamed]))
    assert box_products.search("Rye Bread") == []
    assert box_products.search("Sourdough")[0]["id"] == "p-bread"


def test_a_head_restore_during_a_rebuild_empties_the_next_tables(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    held = catch_up.catalog_held()
    messages = _chunks(held)
    assert down_messages.apply_down(ctx, catalog_head(held + SIZE))
    assert down_messages.apply_down(ctx, messages[0])
    assert _count(box_db, "SELECT count(*) FROM products_next") == 500
    assert down_messages.apply_down(ctx, catalog_head(held + 100))  # the hub restored a backup
    assert catch_up.staged_top() is None
    for table in ("products_next", "barcodes_next", "products_next_fts_docsize"):
        assert _count(box_db, f"SELECT count(*) FROM {table}") == 0
    assert _in_force(box_db) == 0


_KILLER = """
import os, signal, sys
from pathlib import Path
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from firmware_config.schema import BoxConfig
from posdomain.envelope import DownMessage, decode

config = BoxConfig.model_validate_json(Path(sys.argv[1]).read_text())
db = open_database(config.database_path)
with db.connection_context():
    mark = sys.argv[3]

    def trace(sql):
        if sql.lstrip().startswith(mark):
            os.kill(os.getpid(), signal.SIGKILL)  # the box dies here, mid-transaction

    db.connection().set_trace_callback(trace)
    message = decode(Path(sys.argv[2]).read_bytes(), DownMessage)
    down_messages.apply_down(BoxContext(config), message)
print("not killed")
"""


@pytest.mark.parametrize(
    ("which", "mark"),
    [
        ("last", "ALTER TABLE products_next RENAME"),  # in the middle of the swap
        ("last", "CREATE INDEX"),  # the tables renamed, the indexes being built again
        ("middle", "INSERT INTO products_next_fts (rowid"),  # a chunk half staged
    ],
)
def test_a_box_killed_during_a_rebuild_keeps_its_old_catalog_and_finishes_after_restart(
    box_config: BoxConfig, box_db: SqliteDatabase, tmp_path: Path, which: str, mark: str
) -> None:
    ctx = BoxContext(box_config)
    held = catch_up.catalog_held()
    messages = _chunks(held)
    assert down_messages.apply_down(ctx, catalog_head(held + SIZE))
    stop = len(messages) - 1 if which == "last" else 2
    for msg in messages[:stop]:
        assert down_messages.apply_down(ctx, msg)
    top, staged_next = catch_up.staged_top(), _count(box_db, "SELECT count(*) FROM products_next")
    schema = _schema(box_db)
    box_db.close()
    (tmp_path / "config.json").write_text(box_config.model_dump_json())
    (tmp_path / "chunk.json").write_bytes(encode(messages[stop]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLER,
            str(tmp_path / "config.json"),
            str(tmp_path / "chunk.json"),
            mark,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    box_db.connect()
    assert catch_up.catalog_held() == held  # the old catalog is in force, whole
    assert held_versions()["catalog"] == held
    assert _in_force(box_db) == 0
    assert box_products.resolve_scan("4000000000013", []).product.name == "Milk 1L"
    assert {p["name"] for p in box_products.search("Milk 1L")} == {"Milk 1L"}
    assert _schema(box_db) == schema
    assert catch_up.staged_top() == top  # the download resumes where it was
    assert _count(box_db, "SELECT count(*) FROM products_next") == staged_next
    for msg in messages[stop:]:
        assert down_messages.apply_down(ctx, decode(encode(msg), type(msg)))
    assert catch_up.catalog_held() == held + SIZE
    assert _in_force(box_db) == SIZE - 2
    assert box_products.resolve_scan("4000000000013", []).product.name == "Renamed milk plum"
    assert len(box_products.search("plum", limit=50)) == 50
    assert _schema(box_db) == schema


def test_a_staging_commit_is_not_synced_and_every_other_one_is(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """Only a transaction that stages and nothing else commits with synchronous=NORMAL
    (catch_up._staging_commit); the connection is FULL again after it, and the transaction
    that puts the download in force commits with FULL."""
    ctx = BoxContext(box_config)
    held = catch_up.catalog_held()
    messages = _chunks(held)
    seen: list[str] = []
    box_db.connection().set_trace_callback(seen.append)
    try:
        assert down_messages.apply_down(ctx, catalog_head(held + SIZE))
        assert down_messages.apply_down(ctx, messages[0])
        staged = list(seen)
        assert box_db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
        for msg in messages[1:-1]:
            assert down_messages.apply_down(ctx, msg)
        seen.clear()
        assert down_messages.apply_down(ctx, messages[-1])
        final = list(seen)
    finally:
        box_db.connection().set_trace_callback(None)
    normal = [i for i, s in enumerate(staged) if s == "PRAGMA synchronous = NORMAL"]
    begin = [i for i, s in enumerate(staged) if s.startswith("BEGIN")]
    assert normal, staged
    assert begin, staged
    assert normal[0] < begin[-1], staged
    assert "PRAGMA synchronous = NORMAL" not in final
    assert box_db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
