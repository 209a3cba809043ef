"""Till integrity: day shifts for stores that do not count drawers, and the sales backlog.

* `shifts.kind`: 'counted' (a cashier opened it with a counted float) or 'day' (opened by the
  box at the first sale of a business day when the tenant's config says drawers are not
  counted; closed by the day's Z). `business_day` is the local date a day shift belongs to.
* `outbox_queued.queued_sales`: unacknowledged `sale.completed` events, kept by triggers like
  `queued` (migration 0005), so the cashier screen can say "N sales waiting to sync" without
  counting the other events (shift closes, refunds, voids) as sales.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

SALE = "'sale.completed'"

STATEMENTS = [
    """ALTER TABLE shifts ADD COLUMN kind TEXT NOT NULL DEFAULT 'counted'
        CHECK (kind IN ('counted', 'day'))""",
    "ALTER TABLE shifts ADD COLUMN business_day TEXT",
    """ALTER TABLE outbox_queued ADD COLUMN queued_sales INTEGER NOT NULL DEFAULT 0
        CHECK (queued_sales >= 0)""",
    f"""UPDATE outbox_queued SET queued_sales =
        (SELECT count(*) FROM outbox WHERE acked_at IS NULL AND type = {SALE}) WHERE id = 1""",
    f"""CREATE TRIGGER outbox_queued_sales_insert AFTER INSERT ON outbox
        WHEN NEW.acked_at IS NULL AND NEW.type = {SALE}
        BEGIN UPDATE outbox_queued SET queued_sales = queued_sales + 1 WHERE id = 1; END""",
    f"""CREATE TRIGGER outbox_queued_sales_ack AFTER UPDATE OF acked_at ON outbox
        WHEN OLD.acked_at IS NULL AND NEW.acked_at IS NOT NULL AND NEW.type = {SALE}
        BEGIN UPDATE outbox_queued SET queued_sales = queued_sales - 1 WHERE id = 1; END""",
]


def up(db: SqliteDatabase) -> None:
    """Add the shift kind and business day, and the queued-sales counter with its triggers."""
    for statement in STATEMENTS:
        run_sql(db, statement)
