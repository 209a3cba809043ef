"""Phase 7 fault runs (`just chaos`, FR-P7-1020): receiver down, SMTP down, a SIGKILL in the
middle of a compliance export and of a retention purge. Loopback only, own database.

* receiver down: business webhooks queued while nothing listens fail and back off; once a
  verifying receiver listens on that port every one arrives exactly once, signature good;
* SMTP down: an alert mail to a closed port fails and backs off; a real SMTP server on the
  port then gets it once;
* kill during export: `python -m hub compliance-export` SIGKILLed midway writes nothing to
  the database but its `compliance.export_started` entry; the partial tar has no manifest;
  a second run completes with a manifest whose hashes match;
* kill during purge: `python -m hub retention-purge` SIGKILLed while deleting leaves every
  old sale in place (one transaction) and no purge run; a second run deletes them all.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2

from hub.alerting import channels, store
from hub.alerting import delivery as alert_delivery
from hub.alerting.senders import Senders
from hub.alerting.store import AlertSpec
from hub.compliance.models import PurgeRun
from hub.core import db as hub_db
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.demo.seed import seed_demo
from hub.governance.models import AuditLog
from hub.identity.models import Box, Integration
from hub.integrations import delivery, events
from hub.integrations.models import WebhookEndpoint
from hub.migrate import migrate
from hub.sales.models import Sale
from posdomain.permissions import Principal, Role
from posdomain.webhooks import new_secret
from scripts.demo import drop_database, free_port
from scripts.testkit.receivers import MailCatcher
from scripts.testkit.waiting import wait_until
from scripts.webhook_receiver import VerifyingReceiver

ADMIN = "postgresql://postgres@127.0.0.1:5432"
T = "t-greenbasket"
LATER = timedelta(hours=1)
OWNER = Principal(kind="user", id="chaos", role=Role.TENANT_OWNER, tenant_id=T, name="chaos")


def check(ok: bool, what: object) -> None:
    """Fail the run with `what` unless `ok` (a fault case that did not hold)."""
    if not ok:
        raise AssertionError(what)


def receiver_down(events_n: int) -> str:
    """Deliveries to a closed port back off, then all arrive once when it listens."""
    port = free_port()
    secret = new_secret()
    url = f"http://127.0.0.1:{port}/hooks"
    with tenant_tx(T):
        integration = Integration.create(id=uuid.uuid4().hex, tenant_id=T, name="chaos",
                                         created_by="chaos")  # fmt: skip
        WebhookEndpoint.create(id=uuid.uuid4().hex, tenant_id=T, integration_id=integration.id,
                               url=url, event_types=["alert.opened"], secrets=[secret],
                               created_by="chaos")  # fmt: skip
        for n in range(events_n):
            events.emit(T, "alert.opened", f"chaos-{n}", {"n": n})
    down = delivery.deliver_due([url], limit=events_n)
    check(down.sent == 0 and down.failed == events_n, down)
    with VerifyingReceiver([secret], port) as receiver:
        up = delivery.deliver_due([url], now=utcnow() + LATER, limit=events_n * 2)
        again = delivery.deliver_due([url], now=utcnow() + 2 * LATER, limit=events_n * 2)
    check(up.sent == events_n and again.sent == 0, (up, again))
    check(len(receiver.events) == events_n and receiver.refused == 0, "failed")
    return f"receiver down: {events_n} failed while down, {up.sent} delivered once, 0 refused"


def smtp_down() -> str:
    """An alert mail to a closed SMTP port backs off, then reaches the server once."""
    port = free_port()
    senders = Senders("127.0.0.1", port, "alerts@chaos", [])
    body = channels.ChannelIn(name=f"mail-{port}", kind="email", target="ops@example.test",
                              severities=["CRITICAL"])  # fmt: skip
    channels.create(OWNER, T, body, [])
    with tenant_tx(T):
        store.raise_alert(T, AlertSpec("CHAOS", f"chaos:{port}", "CRITICAL", "chaos", {}))
    down = alert_delivery.deliver_due(senders)
    with MailCatcher(port) as mail:
        up = alert_delivery.deliver_due(senders, now=utcnow() + LATER)
        again = alert_delivery.deliver_due(senders, now=utcnow() + 2 * LATER)
    check(down.sent == 0 and down.failed >= 1, down)
    check(up.sent >= 1 and again.sent == 0 and len(mail.messages) == up.sent, (up, again))
    return f"SMTP down: {down.failed} failed while down, {len(mail.messages)} mailed once after"


def _old_sales(n: int) -> None:
    at = datetime.now(UTC) - timedelta(days=12 * 365)
    rows = [
        {"id": uuid.uuid4().hex, "tenant_id": T, "branch_id": "b-downtown", "box_id": "box-old",
         "event_id": uuid.uuid4().hex, "receipt_no": i, "cashier_id": "c", "cashier_name": "c",
         "currency": "EUR", "exponent": 2, "subtotal_minor": 1, "tax_minor": 0,
         "total_minor": 1, "change_minor": 0, "tenders": [], "completed_at": at,
         "received_at": at, "correlation_id": "chaos"}
        for i in range(n)
    ]  # fmt: skip
    with tenant_tx(T):
        for start in range(0, n, 2000):
            Sale.insert_many(rows[start : start + 2000]).execute()


def _counts() -> tuple[int, int]:
    with platform_tx():
        return (Sale.select().where(Sale.tenant_id == T).count(),
                AuditLog.select().where(AuditLog.chain == T).count())  # fmt: skip


def _hub(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hub", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip


def _running(pattern: str) -> bool:
    with platform_tx():
        cursor = hub_db.db.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE %s AND state = 'active'",
            (pattern,),
        )
        return int(cursor.fetchone()[0]) > 0


def kill_during_export(env: dict[str, str], work: Path) -> str:
    """SIGKILL the export midway: only its start is written, the tar has no manifest."""
    out = work / "export.tar"
    sales_before, audit_before = _counts()
    proc = _hub(["compliance-export", "--tenant", T, "--out", str(out)], env)
    wait_until(lambda: out.exists() and out.stat().st_size > 0, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    sales_after, audit_after = _counts()
    with platform_tx():
        last = AuditLog.select().where(AuditLog.chain == T).order_by(AuditLog.seq.desc()).first()
    check(sales_after == sales_before and audit_after == audit_before + 1, (audit_after,))
    check(last.action == "compliance.export_started", last.action)
    partial = out.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(partial), mode="r|*") as tar:
        try:
            names = [m.name for m in tar]
        except tarfile.ReadError:
            names = []
    check("manifest.json" not in names, names)
    done = _hub(["compliance-export", "--tenant", T, "--out", str(out)], env)
    check(done.wait(timeout=600) == 0, "failed")
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for entry in manifest["files"]:
            data = tar.extractfile(entry["name"]).read()  # type: ignore[union-attr]
            check(hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"])
    return (f"kill during export: killed at {len(partial)} bytes, nothing written but the start "
            f"entry; the rerun's {len(manifest['files'])} files match their manifest")  # fmt: skip


def kill_during_purge(env: dict[str, str], old: int) -> str:
    """SIGKILL the purge while it deletes: nothing deleted, no run; the rerun deletes all."""
    _old_sales(old)
    before, _a = _counts()
    proc = _hub(["retention-purge"], env)
    wait_until(lambda: _running('DELETE FROM "sale%'), timeout=120, every=0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after, _a = _counts()
    with platform_tx():
        runs = PurgeRun.select().where(PurgeRun.tenant_id == T).count()
    check(after == before and runs == 0, (before, after, runs))
    done = _hub(["retention-purge"], env)
    check(done.wait(timeout=600) == 0, "failed")
    final, _a = _counts()
    check(final == before - old, (before, final))
    return f"kill during purge: {old} old sales all kept after the kill, all purged by the rerun"


def main() -> int:
    """Run every case on a throwaway database; print one line per case."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--old-sales", type=int, default=60_000)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    name = f"cfpos_chaos7_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    url = f"postgresql://cfpos_app@127.0.0.1:5432/{name}"
    env = {**os.environ, "CFPOS_HUB_DATABASE_URL": url}
    try:
        migrate(f"{ADMIN}/{name}")
        hub_db.bind(url)
        seed_demo()
        with platform_tx():
            Box.create(box_id="box-old", tenant_id=T, branch_id="b-downtown", name="old")
        with tempfile.TemporaryDirectory() as work:
            for line in (
                receiver_down(args.events),
                smtp_down(),
                kill_during_purge(env, args.old_sales),
                kill_during_export(env, Path(work)),
            ):
                print("chaos phase 7:", line, flush=True)
    finally:
        hub_db.disconnect_all()
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
