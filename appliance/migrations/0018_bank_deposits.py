"""Issue 12 item 1 (REP-T-05): bank deposits recorded at the till.

`bank_deposits`: cash a supervisor or manager took from the drawer (the open shift's, whose
expected cash it then lowers on the X/Z report) or, with no shift open, from the safe, to the
bank: amount in minor units (> 0), the deposit slip / bag number, the branch's business day
it belongs to, who took it and who approved it, an optional note, and the id of the
`drawer.bank_deposit` event that carries it to the hub (one per deposit). Append-only
(triggers refuse UPDATE and DELETE), like the other till documents; a slip number is used
once per business day.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE bank_deposits (
        id TEXT PRIMARY KEY, shift_id TEXT REFERENCES shifts (id),
        business_day TEXT NOT NULL, amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        slip_no TEXT NOT NULL CHECK (length(slip_no) BETWEEN 1 AND 32),
        staff_id TEXT NOT NULL, approver_id TEXT NOT NULL, reason_code TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '', event_id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX bank_deposits_slip ON bank_deposits (business_day, slip_no)",
    "CREATE INDEX bank_deposits_shift ON bank_deposits (shift_id, created_at)",
    """CREATE TRIGGER bank_deposits_no_update BEFORE UPDATE ON bank_deposits
        BEGIN SELECT RAISE(ABORT, 'bank_deposits is append-only'); END""",
    """CREATE TRIGGER bank_deposits_no_delete BEFORE DELETE ON bank_deposits
        BEGIN SELECT RAISE(ABORT, 'bank_deposits is append-only'); END""",
]


def up(db: SqliteDatabase) -> None:
    """Create the bank deposits table, its indexes and its immutability triggers."""
    for statement in STATEMENTS:
        run_sql(db, statement)
