"""What a restore drill verifies in the restored scratch database (FR-700).

Each check reads the scratch database over one superuser cursor (the whole hub, every
tenant, no RLS) and returns a JSON-ready result with `ok`:

* row counts per table equal the backup's manifest (counted in the dump's own snapshot);
* every hub audit chain and every synced box chain verifies (posdomain.audit_chain), a box's
  up to its contiguous event seq (entries held above a gap are counted, `held_above_gap`);
* ledger sums equal the running stock balances for every (tenant, branch, product);
* the last event seq per box equals the manifest's, and no box's contiguous mark is past it.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from hub.governance.box_chains import HELD_ABOVE_GAP_SQL, judge_box_chain
from hub.ops.backups import count_manifest
from posdomain.audit_chain import AuditRecord, verify_chain

_COLUMNS = "chain, seq, ts, actor, action, target, severity, details, prev_hash, hash"


def _record(row: tuple[Any, ...]) -> AuditRecord:
    chain, seq, ts, actor, action, target, severity, details, prev_hash, digest = row
    if isinstance(details, str):
        details = json.loads(details)
    return AuditRecord(
        chain=chain,
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        target=target,
        severity=severity,
        details=details,
        prev_hash=prev_hash,
        hash=digest,
    )


def check_counts(cur: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Rows per table now versus the manifest."""
    now = count_manifest(cur)["counts"]
    expected = manifest["counts"]
    diff = {
        t: {"expected": expected.get(t), "restored": now.get(t)}
        for t in sorted(set(expected) | set(now))
        if expected.get(t) != now.get(t)
    }
    return {"ok": not diff, "tables": len(expected), "rows": sum(now.values()), "diff": diff}


def check_chains(cur: Any, box_tenants: dict[str, str]) -> dict[str, Any]:
    """Verify every hub chain and every box chain; a report per chain."""
    cur.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY chain, seq")
    hub = [
        {**verify_chain(chain, map(_record, rows)).to_dict(), "box_id": None, "tenant_id": chain}
        for chain, rows in groupby(cur.fetchall(), key=lambda r: r[0])
    ]
    # a box's entries are judged up to its contiguous event seq: an entry held above a gap
    # (a later batch of its window arrived first, the earlier one is still on its way or
    # being resent) links to entries the hub does not hold yet; it is counted, not judged
    cur.execute(HELD_ABOVE_GAP_SQL)
    held = {int(r[0]) for r in cur.fetchall()}
    cur.execute(f"SELECT box_id, id, {_COLUMNS} FROM box_audit ORDER BY box_id, chain, seq")
    boxes = [
        {
            **judge_box_chain(box_id, chain, ((r[1], _record(r[2:])) for r in rows), held),
            "tenant_id": box_tenants.get(box_id),
        }
        for (box_id, chain), rows in groupby(cur.fetchall(), key=lambda r: (r[0], r[2]))
    ]
    reports = hub + boxes
    return {"ok": all(r["ok"] for r in reports), "chains": reports}


def check_ledger(cur: Any) -> dict[str, Any]:
    """Stock ledger sums equal stock balances (both directions)."""
    cur.execute(
        "SELECT coalesce(m.tenant_id, b.tenant_id), coalesce(m.branch_id, b.branch_id), "
        "coalesce(m.product_id, b.product_id), m.total, b.on_hand_milli FROM "
        "(SELECT tenant_id, branch_id, product_id, sum(qty_milli) AS total FROM stock_movements "
        " GROUP BY tenant_id, branch_id, product_id) m FULL OUTER JOIN stock_balances b "
        "ON m.tenant_id = b.tenant_id AND m.branch_id = b.branch_id "
        "AND m.product_id = b.product_id "
        "WHERE coalesce(m.total, 0) <> coalesce(b.on_hand_milli, 0)"
    )
    bad = [
        {"tenant_id": t, "branch_id": b, "product_id": p, "ledger": s, "balance": h}
        for t, b, p, s, h in cur.fetchall()
    ]
    cur.execute("SELECT count(*) FROM stock_balances")
    return {"ok": not bad, "balances": int(cur.fetchone()[0]), "mismatches": bad[:50]}


def check_last_events(cur: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Last event seq per box equals the manifest; contiguous marks never pass it."""
    cur.execute("SELECT box_id, max(seq) FROM ingested_events GROUP BY box_id")
    restored = {b: int(s) for b, s in cur.fetchall()}
    expected = {b: int(s) for b, s in manifest["last_seq"].items()}
    cur.execute("SELECT box_id, last_contiguous_seq FROM boxes")
    ahead = [b for b, c in cur.fetchall() if c > restored.get(b, 0)]
    boxes = [
        {
            "box_id": b,
            "tenant_id": manifest["box_tenants"].get(b),
            "expected": expected.get(b),
            "restored": restored.get(b),
        }
        for b in sorted(set(expected) | set(restored))
    ]
    ok = restored == expected and not ahead
    return {"ok": ok, "boxes": boxes, "contiguous_ahead": ahead}
