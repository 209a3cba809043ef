"""Ingest at database speed (issue 15 item 2, NFR-003): the per-line report fact tables lose
their foreign key to `tenants`.

`report_lines`, `report_tax_parts`, `report_discounts`, `report_tenders` and `report_docs`
get one row per line, tax part, discount, tender and document of every sale ingest stores
(about 100 rows per 30-line sale). Each of those rows fired a `tenants(id)` RI trigger
(a `SELECT ... FOR KEY SHARE` on the one tenant row), about a sixth of the server time of a
batch. The key guarded nothing the schema does not already hold: these tables have FORCE
row-level security whose WITH CHECK admits only `tenant_id = app.tenant_id`, which ingest
sets from the enrolled box row (itself keyed to `tenants`), and tenants are never deleted.
The rollup tables (a handful of upserted rows per batch), `sales`, `sale_lines` (its key to
`sales` stays) and every other table keep their keys.

`ingested_events.payload` (the whole event, about 12 KB of JSON for a 30-line sale) is
TOASTed with lz4 instead of pglz: about 30 % less server CPU to store a batch's payloads, 8 %
more bytes (new rows only: nothing is rewritten; a server built without lz4 keeps pglz).

SQLite (the embedded demo hub) does not enforce these keys on this path (no
`PRAGMA foreign_keys`): nothing to do there.
"""

from __future__ import annotations

from typing import Any

TABLES = ("report_lines", "report_tax_parts", "report_discounts", "report_tenders", "report_docs")

# the constraint names differ (report_lines was rebuilt partitioned: `..._fkey1`), so each is
# looked up; on a partitioned table dropping the parent's key drops its partitions' copies
DROP = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.conrelid::regclass AS tbl, c.conname
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.confrelid = 'tenants'::regclass AND c.conparentid = 0
      AND c.conrelid::regclass::text = ANY ({tables})
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
END $$
"""


LZ4 = """
DO $$
BEGIN
  ALTER TABLE ingested_events ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 not available: ingested_events.payload stays pglz';
END $$
"""


def up(ctx: Any) -> None:
    """Drop the tenant foreign keys of the report fact tables; lz4 for event payloads
    (PostgreSQL)."""
    if ctx.dialect != "postgres":
        return
    tables = "ARRAY[" + ", ".join(f"'{t}'" for t in TABLES) + "]"
    ctx.execute(DROP.replace("{tables}", tables))
    ctx.execute(LZ4)
