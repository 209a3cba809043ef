"""The tenant compliance export and the audit evidence export (FR-P7-1014, FR-P7-1018).

Both stream a tar archive: one JSON-lines file per table (every row of the tenant, read in
one READ ONLY REPEATABLE READ transaction, so the files show one moment and the export can
write nothing), then `manifest.json` (per file: rows and SHA-256) and `manifest.sig`
(HMAC-SHA256 of the manifest's bytes with the hub's checkpoint key, the key that already
anchors the audit chains). Credentials never leave: password, PIN, badge, token and
enrolment-code hashes and webhook/pricing secrets are replaced by "[redacted]", sessions and
tenant secrets are not exported at all (the manifest lists both).

Every export is audited: `compliance.export_started` before the first byte, and
`compliance.exported` with the manifest's hash after the last one. A client that goes away
midway leaves only the first entry (an export is read-only: nothing is half-written). Over
the configured row limit the export is refused before it starts (413 EXPORT_TOO_LARGE).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from peewee import Model

from hub.alerting import models as alerting_models
from hub.boxes import models as boxes_models
from hub.catalog import models as catalog_models
from hub.compliance import models as compliance_models
from hub.core.db import read_only_tx, tenant_tx
from hub.core.models import BaseModel, utcnow
from hub.customers import models as customers_models
from hub.governance import audit
from hub.governance import models as governance_models
from hub.governance.models import AuditLog
from hub.identity import models as identity_models
from hub.incidents import models as incidents_models
from hub.integrations import models as integrations_models
from hub.inventory import models as inventory_models
from hub.loyalty import models as loyalty_models
from hub.ops import models as ops_models
from hub.performance import models as performance_models
from hub.pricing import models as pricing_models
from hub.reports import models as reports_models
from hub.risk import models as risk_models
from hub.sales import models as sales_models
from hub.sync import models as sync_models
from posdomain.audit_chain import Severity, verify_chain
from posdomain.errors import HubReason, PayloadTooLarge
from posdomain.permissions import Principal

AREAS = (
    alerting_models,
    boxes_models,
    catalog_models,
    compliance_models,
    customers_models,
    governance_models,
    identity_models,
    incidents_models,
    integrations_models,
    inventory_models,
    loyalty_models,
    ops_models,
    performance_models,
    pricing_models,
    reports_models,
    risk_models,
    sales_models,
    sync_models,
)
REDACTED_COLUMNS = frozenset(
    {"password_hash", "pin_hash", "badge_digest", "token_hash", "code_hash", "secret", "secrets"}
)
SKIPPED_TABLES = frozenset({"hub_sessions", "tenant_secrets", "api_token_usage"})
SPOOL_BYTES = 8 * 1024 * 1024


def tenant_models() -> list[type[Model]]:
    """Every hub table with a `tenant_id` column, by table name (audit_log has its own file)."""
    found: dict[str, type[Model]] = {}
    for area in AREAS:
        for value in vars(area).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                meta = value._meta
                if "tenant_id" in meta.fields and meta.table_name not in SKIPPED_TABLES:
                    found[meta.table_name] = value
    found.pop(AuditLog._meta.table_name, None)
    return [found[name] for name in sorted(found)]


def _rows(model: type[Model], tenant_id: str) -> Any:
    query = model.select().where(model.tenant_id == tenant_id)  # type: ignore[attr-defined]
    pk = model._meta.primary_key
    if pk is not None and not isinstance(pk, bool):
        query = query.order_by(pk)
    return query.dicts().iterator()


def _redact(row: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if k in REDACTED_COLUMNS and v else v) for k, v in row.items()}


def count_rows(tenant_id: str) -> int:
    """Rows a tenant export would hold (refused over the limit before anything streams)."""
    with read_only_tx(tenant_id):
        total = 0
        for model in tenant_models():
            total += int(model.select().where(model.tenant_id == tenant_id).count())  # type: ignore[attr-defined]
        return int(total) + int(AuditLog.select().where(AuditLog.chain == tenant_id).count())


class _Drain(io.RawIOBase):
    """A write-only sink the tar writer fills; the streamer empties it after each member."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _spool(rows: Iterator[dict[str, Any]]) -> tuple[IO[bytes], int, str, int]:
    """Rows as JSON lines in a spooled file: (file, rows, sha256, bytes)."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        line = json.dumps(row, sort_keys=True, default=str, separators=(",", ":")).encode() + b"\n"
        digest.update(line)
        spool.write(line)
        count += 1
    size = spool.tell()
    spool.seek(0)
    return spool, count, digest.hexdigest(), size


def _member(tar: tarfile.TarFile, name: str, data: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(utcnow().timestamp()), 0o644
    tar.addfile(info, data)


def sign(key: bytes, manifest: bytes) -> str:
    """The manifest's signature: HMAC-SHA256 hex with the checkpoint key."""
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def _archive(
    files: Iterator[tuple[str, Iterator[dict[str, Any]]]], meta: dict[str, Any], key: bytes
) -> Iterator[bytes | dict[str, Any]]:
    """Tar chunks of every file, then the signed manifest; finally the manifest itself."""
    drain = _Drain()
    tar = tarfile.open(fileobj=drain, mode="w|")  # noqa: SIM115 - closed below
    listed = []
    for name, rows in files:
        spool, count, digest, size = _spool(rows)
        with spool:
            _member(tar, name, spool, size)
        listed.append({"name": name, "rows": count, "sha256": digest, "bytes": size})
        yield drain.take()
    manifest = {**meta, "files": listed}
    body = json.dumps(manifest, sort_keys=True, indent=2).encode()
    _member(tar, "manifest.json", io.BytesIO(body), len(body))
    signature = sign(key, body).encode()
    _member(tar, "manifest.sig", io.BytesIO(signature), len(signature))
    tar.close()
    yield drain.take()
    yield {**manifest, "manifest_sha256": hashlib.sha256(body).hexdigest()}


def _audit_rows(tenant_id: str) -> Iterator[dict[str, Any]]:
    query = AuditLog.select().where(AuditLog.chain == tenant_id).order_by(AuditLog.seq)
    yield from query.dicts().iterator()


def _stream(
    principal: Principal,
    tenant_id: str,
    kind: str,
    files: Any,
    key: bytes,
) -> Iterator[bytes]:
    meta = {
        "kind": kind,
        "tenant_id": tenant_id,
        "created_at": utcnow().isoformat(),
        "created_by": principal.actor,
        "redacted_columns": sorted(REDACTED_COLUMNS),
        "skipped_tables": sorted(SKIPPED_TABLES),
        "signature": "manifest.sig = HMAC-SHA256(checkpoint key, manifest.json bytes), hex",
    }
    summary: dict[str, Any] = {}
    with read_only_tx(tenant_id):
        for chunk in _archive(files(), meta, key):
            if isinstance(chunk, dict):
                summary = chunk
            elif chunk:
                yield chunk
    with tenant_tx(tenant_id):
        details = {
            "kind": kind,
            "manifest_sha256": summary.get("manifest_sha256"),
            "rows": sum(f["rows"] for f in summary.get("files", [])),
            "files": len(summary.get("files", [])),
        }
        audit.record(
            principal, "compliance.exported", f"tenant:{tenant_id}", Severity.WARN, details
        )


def _started(principal: Principal, tenant_id: str, kind: str, rows: int) -> None:
    with tenant_tx(tenant_id):
        details = {"kind": kind, "rows": rows}
        audit.record(
            principal, "compliance.export_started", f"tenant:{tenant_id}", Severity.WARN, details
        )


def tenant_export(
    principal: Principal, tenant_id: str, key: bytes, max_rows: int
) -> Iterator[bytes]:
    """Check the size, audit the start; the archive's chunks (the caller streams them)."""
    rows = count_rows(tenant_id)
    if rows > max_rows:
        raise PayloadTooLarge(
            f"the export would hold {rows} rows, more than the limit of {max_rows}",
            HubReason.EXPORT_TOO_LARGE,
            {"rows": rows, "max_rows": max_rows},
        )
    _started(principal, tenant_id, "tenant", rows)

    def files() -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        for model in tenant_models():
            name = model._meta.table_name
            yield f"{name}.jsonl", map(_redact, _rows(model, tenant_id))
        yield "audit_log.jsonl", _audit_rows(tenant_id)

    return _stream(principal, tenant_id, "tenant", files, key)


def audit_evidence(principal: Principal, tenant_id: str, key: bytes) -> Iterator[bytes]:
    """The tenant's audit chain with its verification report, as a signed archive."""
    _started(principal, tenant_id, "audit_evidence", 0)

    def files() -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        records = audit.chain_records(tenant_id)
        report = verify_chain(tenant_id, records).to_dict()
        yield "audit_log.jsonl", _audit_rows(tenant_id)
        yield "verification.json", iter([report])

    return _stream(principal, tenant_id, "audit_evidence", files, key)
