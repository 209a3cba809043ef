"""Customers and loyalty at the till (FR-400, FR-401) and staff badges (FR-102).

* `loyalty_cards`: the synced card directory (docs/CONTRACT.md "Card directory"): only what
  the till needs — card, customer id, display name, tier, points balance as of `version`,
  active — never e-mail or phone. Customers enrolled at this till are there too
  (`source = 'box'`, version 0) so their card works offline before the hub knows them.
* `customer_searches`: name/phone searches the web app asks and the sync agent carries to the
  hub and back (two processes share only the database).
* `loyalty_redemptions`: points this box redeemed, until a directory entry the hub built after
  ingesting the sale arrives (`settled`); the usable balance subtracts the unsettled ones.
* `basket_redemptions`: the points the cashier chose to redeem on an open basket.
* `basket_customers.card`, `staff.badge_digest`.
"""

from __future__ import annotations

from peewee import SqliteDatabase

from appliance.migrations import run_sql

STATEMENTS = [
    """CREATE TABLE loyalty_cards (
        customer_id TEXT PRIMARY KEY, card TEXT UNIQUE, display_name TEXT NOT NULL,
        tier TEXT, balance INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1,
        version INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL DEFAULT 'hub'
            CHECK (source IN ('hub', 'box')),
        received_at TEXT NOT NULL)""",
    """CREATE TABLE customer_searches (
        request_id TEXT PRIMARY KEY, query TEXT NOT NULL, asked_at TEXT NOT NULL,
        sent_at TEXT, answered_at TEXT, reply TEXT)""",
    """CREATE TABLE loyalty_redemptions (
        sale_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, points INTEGER NOT NULL
            CHECK (points > 0),
        offline INTEGER NOT NULL, redeemed_at TEXT NOT NULL, event_id TEXT NOT NULL,
        acked_version INTEGER, settled INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX loyalty_redemptions_open ON loyalty_redemptions (customer_id, settled)",
    """CREATE TABLE basket_redemptions (
        basket_key TEXT PRIMARY KEY, customer_id TEXT NOT NULL,
        points INTEGER NOT NULL CHECK (points > 0), created_at TEXT NOT NULL)""",
    "ALTER TABLE basket_customers ADD COLUMN card TEXT",
    "ALTER TABLE staff ADD COLUMN badge_digest TEXT",
]


def up(db: SqliteDatabase) -> None:
    """Create the card directory, searches, redemptions; add basket card and staff badge."""
    for statement in STATEMENTS:
        run_sql(db, statement)
