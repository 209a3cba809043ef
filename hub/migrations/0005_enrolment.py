"""Box enrolment (issue 4): one-time enrolment codes, per-box MQTT credentials, replacements,
commissioning reports, and a per-IP failure log for the unauthenticated enrol endpoint.

* `enrolment_codes` stores only the SHA-256 of a code (codes are random, short-lived, single
  use and rate limited, so a fast hash is enough and allows lookup by hash).
* `box_credentials.password_hash` is Mosquitto's own `$7$` PBKDF2-SHA512 format, so
  `python -m hub mqtt-config` writes the broker's password file without any plaintext.
* `box_replacements` records which box took over a dead one; the old box keeps its id, events
  and credentials for a grace window so late events are still accepted (no sale is lost).
* `enrolment_failures` is written before any tenant is known (like `login_failures`): no
  tenant column, no RLS.
"""

from __future__ import annotations

from typing import Any

APP_ROLE = "cfpos_app"

TABLES = [
    """CREATE TABLE enrolment_codes (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
        branch_id TEXT NOT NULL REFERENCES branches(id), till_name TEXT NOT NULL,
        code_hash TEXT NOT NULL UNIQUE, replaces_box_id TEXT, created_by TEXT NOT NULL,
        created_at {TS} NOT NULL, expires_at {TS} NOT NULL, used_at {TS}, used_box_id TEXT)""",
    """CREATE TABLE box_credentials (
        box_id TEXT PRIMARY KEY REFERENCES boxes(box_id), tenant_id TEXT NOT NULL,
        mqtt_username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
        created_at {TS} NOT NULL, revoked_at {TS})""",
    """CREATE TABLE box_replacements (
        old_box_id TEXT PRIMARY KEY REFERENCES boxes(box_id), tenant_id TEXT NOT NULL,
        new_box_id TEXT NOT NULL UNIQUE REFERENCES boxes(box_id), replaced_at {TS} NOT NULL,
        accept_late_until {TS} NOT NULL, replaced_by TEXT NOT NULL)""",
    """CREATE TABLE commissioning_reports (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, branch_id TEXT NOT NULL,
        box_id TEXT NOT NULL REFERENCES boxes(box_id), ok {BOOL} NOT NULL,
        report {JSON} NOT NULL, received_at {TS} NOT NULL)""",
    "CREATE INDEX commissioning_reports_box ON commissioning_reports (box_id, received_at)",
    """CREATE TABLE enrolment_failures (
        id {SERIAL}, client_ip TEXT NOT NULL, failed_at {TS} NOT NULL)""",
    "CREATE INDEX enrolment_failures_ip_at ON enrolment_failures (client_ip, failed_at)",
]
TENANT_TABLES = ("enrolment_codes", "box_credentials", "box_replacements", "commissioning_reports")


def _pg_security() -> list[str]:
    cond = (
        "tenant_id = nullif(current_setting('app.tenant_id', true), '') "
        "OR current_setting('app.platform', true) = 'on'"
    )
    stmts: list[str] = []
    for table in TENANT_TABLES:
        stmts += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY {table}_tenant ON {table} USING ({cond}) WITH CHECK ({cond})",
        ]
    stmts += [
        f"GRANT SELECT, INSERT, UPDATE ON enrolment_codes, box_credentials TO {APP_ROLE}",
        f"GRANT SELECT, INSERT ON box_replacements, commissioning_reports TO {APP_ROLE}",
        f"GRANT SELECT, INSERT, DELETE ON enrolment_failures TO {APP_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    ]
    return stmts


def up(ctx: Any) -> None:
    """Create the enrolment tables; on PostgreSQL also RLS and grants."""
    for stmt in TABLES:
        ctx.execute(stmt)
    if ctx.dialect == "postgres":
        for stmt in _pg_security():
            ctx.execute(stmt)
