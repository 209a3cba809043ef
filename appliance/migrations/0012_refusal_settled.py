"""Issue 9 / FR-303: a refused outbox row can be settled, and stays kept and undelivered.

Two ways, each recorded in its own columns, each written once:

* `resolved_at`, `resolved_by`, `resolution_note`: head office resolved the event's
  reconciliation item on the hub, and the `refusals` down message told the box.
* `acknowledged_at`, `acknowledged_by`, `acknowledged_note`: a SUPERVISOR or BRANCH_MANAGER
  acknowledged it at the till (when the hub cannot be reached); audited on the box's chain.
  The hub's item stays open until head office resolves it; a later hub resolution is still
  recorded beside the acknowledgement.

Only a refused row can be settled (a guard refuses it on a waiting or delivered row), and a
settled row is still refused: never acked, never sent again, never deleted (0001, 0008).

Counters: `outbox_queued.refused` / `refused_sales` now count refused rows **not yet
settled** (what the till's banner and the heartbeat show): a row leaves them when it is first
resolved or acknowledged. The X/Z row "Sales refused by the hub" still counts every refused
sale of the shift, settled or not: settling does not book a sale at head office.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

SALE = "'sale.completed'"
OPEN = "OLD.resolved_at IS NULL AND OLD.acknowledged_at IS NULL"
SETTLED = "(NEW.resolved_at IS NOT NULL OR NEW.acknowledged_at IS NOT NULL)"


def _once(column: str) -> str:
    return f"(OLD.{column} IS NOT NULL AND NEW.{column} IS NOT OLD.{column})"


STATEMENTS = [
    "ALTER TABLE outbox ADD COLUMN resolved_at TEXT",
    "ALTER TABLE outbox ADD COLUMN resolved_by TEXT",
    "ALTER TABLE outbox ADD COLUMN resolution_note TEXT",
    "ALTER TABLE outbox ADD COLUMN acknowledged_at TEXT",
    "ALTER TABLE outbox ADD COLUMN acknowledged_by TEXT",
    "ALTER TABLE outbox ADD COLUMN acknowledged_note TEXT",
    f"""CREATE TRIGGER outbox_settle_guard BEFORE UPDATE ON outbox
        WHEN (OLD.refused_at IS NULL AND {SETTLED})
          OR {_once("resolved_at")} OR {_once("resolved_by")} OR {_once("resolution_note")}
          OR {_once("acknowledged_at")} OR {_once("acknowledged_by")}
          OR {_once("acknowledged_note")}
        BEGIN SELECT RAISE(ABORT, 'only a refused outbox row is settled, once per way'); END""",
    f"""CREATE TRIGGER outbox_refused_settle AFTER UPDATE OF resolved_at, acknowledged_at
        ON outbox WHEN OLD.refused_at IS NOT NULL AND {OPEN} AND {SETTLED}
        BEGIN UPDATE outbox_queued SET refused = refused - 1,
            refused_sales = refused_sales - (NEW.type = {SALE}) WHERE id = 1; END""",
    """CREATE INDEX outbox_refused_open ON outbox (seq) WHERE refused_at IS NOT NULL
        AND resolved_at IS NULL AND acknowledged_at IS NULL""",
]


def up(db: SqliteDatabase) -> None:
    """Add the settled columns, their guard, the open-refusal counter rule and index."""
    for statement in STATEMENTS:
        run_sql(db, statement)
