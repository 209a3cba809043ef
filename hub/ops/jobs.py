"""The periodic jobs of operations, each over every tenant (run by hub.ops.scheduler or CLI).

Every job catches and logs a failure of one tenant and goes on with the next, so one bad
tenant never stops alerting for the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hub.alerting.delivery import deliver_due
from hub.alerting.senders import Senders
from hub.compliance import retention
from hub.core.db import platform_tx
from hub.identity.models import Tenant
from hub.incidents import service as incidents
from hub.integrations import delivery as webhook_delivery
from hub.ops import rules
from hub.risk import modes, scoring
from hub.settings import HubSettings
from hub.sync import downlink
from posdomain.errors import PosError
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def tenant_ids() -> list[str]:
    """Every tenant id."""
    with platform_tx():
        return [t.id for t in Tenant.select(Tenant.id).order_by(Tenant.id)]


def _each(job: str, fn: Callable[[str], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tenant_id in tenant_ids():
        try:
            out[tenant_id] = fn(tenant_id)
        except (PosError, OSError, RuntimeError) as err:  # one tenant never stops the rest
            log_event(
                log,
                "operations job failed",
                logging.ERROR,
                job=job,
                tenant=tenant_id,
                error=repr(err),
            )
            out[tenant_id] = {"error": str(err)}
    return out


def evaluate_alerts() -> dict[str, Any]:
    """Run every alert rule for every tenant, then open incidents for CRITICAL alerts."""

    def one(tenant_id: str) -> dict[str, Any]:
        counts = rules.evaluate_tenant(tenant_id)
        counts["incidents_opened"] = incidents.detect_from_alerts(tenant_id)
        return counts

    return _each("evaluate_alerts", one)


def score_risk() -> dict[str, Any]:
    """Score every tenant's cashiers, boxes and branches."""
    return _each("score_risk", scoring.score_tenant)


def audit_expired_modes() -> dict[str, Any]:
    """Audit every risk mode that ended by its expiry, once (FR-701)."""
    return _each("audit_expired_modes", modes.audit_expired)


def senders(cfg: HubSettings) -> Senders:
    """The transports as configured."""
    return Senders(cfg.smtp_host, cfg.smtp_port, cfg.smtp_from, cfg.alert_webhook_allowlist)


def deliver_alerts(cfg: HubSettings) -> dict[str, int]:
    """Send every due alert delivery."""
    stats = deliver_due(senders(cfg))
    return {"sent": stats.sent, "failed": stats.failed, "dead": stats.dead}


def deliver_webhooks(cfg: HubSettings) -> dict[str, int]:
    """Send every due business-webhook delivery (FR-P7-1010)."""
    stats = webhook_delivery.deliver_due(cfg.alert_webhook_allowlist)
    return {"sent": stats.sent, "failed": stats.failed, "dead": stats.dead}


def purge_retention() -> dict[str, Any]:
    """Purge every tenant's data past its retention (FR-P7-1016; held records stay)."""
    return _each("purge_retention", retention.purge_all)


def republish_risk(cfg: HubSettings) -> int:
    """Republish every tenant's down messages (risk modes that expired reach the boxes)."""
    return downlink.publish_all(*cfg.mqtt_host_port())
