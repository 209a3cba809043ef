"""Issue 9 / FR-303: an outbox row the hub knowingly refused is `refused`, never delivered.

The hub lists what it quarantined in `BatchAck.rejected` ({event_id, seq, reason, message}),
e.g. the box's real sale whose seq a crafted event took first (SEQ_CONFLICT) or a sale whose
totals do not add up (TOTALS_MISMATCH). Such a row gets `refused_at`, `refused_reason` and
`refused_message`; it is kept (outbox rows are never deleted), never marked acked, and never
sent again by the agent. The hub's reconciliation queue holds the data side; the till shows it.

Counters (`outbox_queued`, migrations 0005/0007): `queued` / `queued_sales` count events
still waiting to be sent (no ack, no refusal), so a refused row leaves them when it is
refused; `refused` / `refused_sales` count the refused rows. A guard keeps the states apart:
an acked row cannot be refused, a refused row cannot be acked and its refusal never changes.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

SALE = "'sale.completed'"
REFUSED = "OLD.refused_at IS NULL AND NEW.refused_at IS NOT NULL"

STATEMENTS = [
    "ALTER TABLE outbox ADD COLUMN refused_at TEXT",
    "ALTER TABLE outbox ADD COLUMN refused_reason TEXT",
    "ALTER TABLE outbox ADD COLUMN refused_message TEXT",
    "ALTER TABLE outbox_queued ADD COLUMN refused INTEGER NOT NULL DEFAULT 0 CHECK (refused >= 0)",
    """ALTER TABLE outbox_queued ADD COLUMN refused_sales INTEGER NOT NULL DEFAULT 0
        CHECK (refused_sales >= 0)""",
    """CREATE TRIGGER outbox_refusal_guard BEFORE UPDATE ON outbox
        WHEN (OLD.acked_at IS NOT NULL AND NEW.refused_at IS NOT NULL)
          OR (OLD.refused_at IS NOT NULL AND (NEW.acked_at IS NOT NULL
              OR NEW.refused_at IS NOT OLD.refused_at
              OR NEW.refused_reason IS NOT OLD.refused_reason
              OR NEW.refused_message IS NOT OLD.refused_message))
        BEGIN SELECT RAISE(ABORT, 'an outbox row is either delivered or refused, once'); END""",
    f"""CREATE TRIGGER outbox_queued_refuse AFTER UPDATE OF refused_at ON outbox
        WHEN {REFUSED}
        BEGIN UPDATE outbox_queued SET queued = queued - 1, refused = refused + 1,
            queued_sales = queued_sales - (NEW.type = {SALE}),
            refused_sales = refused_sales + (NEW.type = {SALE}) WHERE id = 1; END""",
    "DROP INDEX outbox_unacked",
    """CREATE INDEX outbox_unacked ON outbox (seq)
        WHERE acked_at IS NULL AND refused_at IS NULL""",
    "CREATE INDEX outbox_refused ON outbox (seq) WHERE refused_at IS NOT NULL",
]


def up(db: SqliteDatabase) -> None:
    """Add the refused state, its counters, its guard and the waiting-rows index."""
    for statement in STATEMENTS:
        run_sql(db, statement)
