"""Issue 17 item 5: every API token belongs to an integration, so the kill switch covers all.

Tokens issued by `POST /api/v1/tokens` before integrations existed (and any legacy `cfp_`
token) had no `integration_id`: no kill switch could stop them, only one-by-one revocation.
Each tenant that has such tokens gets one integration named "API tokens (pre-integration)"
(`created_by` = `migration:0025`), every integration-less token is moved into it, and on
PostgreSQL `api_tokens.integration_id` becomes NOT NULL, so no token can be issued outside
the model again (`POST /api/v1/tokens` without an `integration_id` now files the token
under the same integration, created on first use and audited). The tokens keep working
exactly as before until the owner switches that integration off or revokes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NAME = "API tokens (pre-integration)"


def up(ctx: Any) -> None:
    """File integration-less tokens under a per-tenant integration; require one from now on."""
    now = datetime.now(UTC).isoformat()
    ctx.execute(
        f"""INSERT INTO integrations (id, tenant_id, name, enabled, created_by, created_at)
        SELECT 'pre-' || t.tenant_id, t.tenant_id, '{NAME}', TRUE, 'migration:0025', '{now}'
        FROM (SELECT DISTINCT tenant_id FROM api_tokens WHERE integration_id IS NULL) t
        ON CONFLICT (tenant_id, name) DO NOTHING"""
    )
    ctx.execute(
        f"""UPDATE api_tokens SET integration_id = (SELECT i.id FROM integrations i
        WHERE i.tenant_id = api_tokens.tenant_id AND i.name = '{NAME}')
        WHERE integration_id IS NULL"""
    )
    if ctx.dialect == "postgres":
        ctx.execute("ALTER TABLE api_tokens ALTER COLUMN integration_id SET NOT NULL")
