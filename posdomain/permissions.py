"""Roles, scopes and the permission matrix (../shared/spec/permission_matrix.md) as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from posdomain.errors import Forbidden, Reason


class Role(StrEnum):
    """One role per principal per tenant."""

    APPLICATION_OWNER = "APPLICATION_OWNER"
    TENANT_OWNER = "TENANT_OWNER"
    AUDITOR = "AUDITOR"
    BRANCH_MANAGER = "BRANCH_MANAGER"
    SUPERVISOR = "SUPERVISOR"
    CASHIER = "CASHIER"
    INVENTORY_CLERK = "INVENTORY_CLERK"
    FIELD_TECH = "FIELD_TECH"
    INTEGRATION = "INTEGRATION"


class Scope(StrEnum):
    """P platform, T tenant, B assigned branches, S own records, O override only, R read."""

    PLATFORM = "P"
    TENANT = "T"
    BRANCH = "B"
    SELF = "S"
    OVERRIDE = "O"
    READ = "R"


class Action(StrEnum):
    """Actions named by the permission matrix rows."""

    TENANT_ADMIN = "tenant.admin"
    BRANCH_CREATE = "branch.create"
    BOX_ENROL = "box.enrol"
    USER_MANAGE = "user.manage"
    STAFF_DEACTIVATE = "staff.deactivate"
    FLAG_FLIP = "flag.flip"
    CONFIG_EDIT = "config.edit"
    CONFIG_READ = "config.read"
    RULE_APPROVE = "rule.approve"  # second person on a business-rule change (FR-901)
    PRODUCT_CRUD = "product.crud"
    SELL = "sale.sell"
    LINE_VOID = "sale.line_void"
    PRIVILEGED_SALE_OP = "sale.privileged"
    NO_SALE = "sale.no_sale"
    SHIFT = "shift.manage"
    X_REPORT = "report.x"
    Z_REPORT = "report.z"
    SALES_READ = "sales.read"
    AUDIT_READ = "audit.read"
    DEVICE_HEALTH = "device.health"
    TOKEN_MANAGE = "token.manage"  # noqa: S105 - an action name
    RISK_MODE = "risk.change"
    STOCK_MOVE = "stock.move"  # receive / adjust / waste / count, reorder points, alert ack
    STOCK_READ = "stock.read"  # on hand, movement history, alerts (REP-O inventory reports)
    TRANSFER = "stock.transfer"  # branch transfer request / dispatch / receive / cancel
    RECONCILE = "sync.reconcile"  # resolve reconciliation-queue items (FR-303)
    ALERT_READ = "alert.read"  # alert feed, fleet dashboard (FR-501, FR-P7-1001..1004)
    ALERT_ACK = "alert.ack"  # acknowledge / resolve an alert
    ALERT_CONFIGURE = "alert.configure"  # channels and alert thresholds (like config edit)
    RISK_READ = "risk.read"  # risk scores and the modes in force
    INCIDENT_READ = "incident.read"
    INCIDENT_OPEN = "incident.open"  # open by hand, add responses (BRANCH_MANAGER: B)
    INCIDENT_RESPOND = "incident.respond"
    INCIDENT_MANAGE = "incident.manage"  # classify and resolve
    BACKUP_RUN = "backup.run"  # run a backup or a restore drill
    BACKUP_READ = "backup.read"  # backup runs and drill reports
    CUSTOMER_MANAGE = "customer.manage"  # create/search/edit customers, read their points
    LOYALTY_ADJUST = "loyalty.adjust"  # manual points adjustment with a reason code
    CUSTOMER_PII = "customer.pii"  # export everything held about a customer, erase them
    COMPLIANCE_READ = "compliance.read"  # legal holds, compliance and audit evidence exports
    COMPLIANCE_MANAGE = "compliance.manage"  # place and release legal holds
    FORECAST_READ = "forecast.read"  # read-only predictive endpoints (FR-P7-1005..1008)
    REPORTS_OPERATIONAL = "reports.operational"  # REP-O reports (INVENTORY_CLERK: inventory)
    REPORT_EXPORT = "reports.export"  # CSV / printable / PDF export of any report
    RELEASE_READ = "release.read"  # artifacts, smoke runs, decisions, rollouts (FR-703/804)
    RELEASE_MANAGE = "release.manage"  # publish, smoke results, promote, GO/NO-GO decisions
    ROLLOUT_MANAGE = "release.rollout"  # staged box rollout: create, advance, cancel


P, T, B, S = Scope.PLATFORM, Scope.TENANT, Scope.BRANCH, Scope.SELF
OVR = Scope.OVERRIDE
_AO, _TO, _AU, _BM = (Role.APPLICATION_OWNER, Role.TENANT_OWNER, Role.AUDITOR, Role.BRANCH_MANAGER)
_SV, _CA, _IC, _FT = (Role.SUPERVISOR, Role.CASHIER, Role.INVENTORY_CLERK, Role.FIELD_TECH)

MATRIX: dict[Action, dict[Role, Scope]] = {
    Action.TENANT_ADMIN: {_AO: P},
    Action.BRANCH_CREATE: {_AO: P, _TO: T},
    Action.BOX_ENROL: {_AO: P, _TO: T, _FT: B},
    Action.USER_MANAGE: {_AO: P, _TO: T, _BM: B},
    Action.STAFF_DEACTIVATE: {_AO: P, _TO: T, _BM: B},
    Action.FLAG_FLIP: {_AO: P, _TO: T},
    Action.CONFIG_EDIT: {_AO: P, _TO: T},
    Action.CONFIG_READ: {_AO: P, _TO: T, _AU: T, _BM: B},
    Action.RULE_APPROVE: {_AO: P, _TO: T},
    Action.PRODUCT_CRUD: {_TO: T, _BM: B},
    Action.SELL: {_BM: B, _SV: B, _CA: B},
    Action.LINE_VOID: {_BM: B, _SV: B, _CA: B},
    Action.PRIVILEGED_SALE_OP: {_BM: B, _SV: B, _CA: OVR},
    Action.NO_SALE: {_BM: B, _SV: B, _CA: OVR},
    Action.SHIFT: {_BM: B, _SV: B, _CA: S},
    Action.X_REPORT: {_BM: B, _SV: B, _CA: S},
    Action.Z_REPORT: {_BM: B, _SV: B},
    # REP-T reports / the sales list
    Action.SALES_READ: {_TO: T, _AU: T, _BM: B, _SV: B},
    Action.AUDIT_READ: {_AO: P, _TO: T, _AU: T, _BM: B},
    Action.DEVICE_HEALTH: {_AO: P, _TO: T, _BM: B, _SV: B, _FT: B},
    Action.TOKEN_MANAGE: {_AO: P, _TO: T},
    Action.RISK_MODE: {_AO: P, _TO: T},
    Action.STOCK_MOVE: {_TO: T, _BM: B, _SV: B, _IC: B},
    Action.STOCK_READ: {_TO: T, _AU: T, _BM: B, _SV: B, _IC: B},
    Action.TRANSFER: {_TO: T, _BM: B, _IC: B},
    Action.RECONCILE: {_TO: T, _BM: B},
    Action.ALERT_READ: {_AO: P, _TO: T, _AU: T, _BM: B, _SV: B, _FT: B},
    Action.ALERT_ACK: {_AO: P, _TO: T, _BM: B},
    Action.ALERT_CONFIGURE: {_AO: P, _TO: T},
    Action.RISK_READ: {_AO: P, _TO: T, _AU: T, _BM: B},
    # "incidents: open/classify/respond/resolve — P, T, AUDITOR read, BR_MGR open, respond"
    Action.INCIDENT_READ: {_AO: P, _TO: T, _AU: T, _BM: B},
    Action.INCIDENT_OPEN: {_AO: P, _TO: T, _BM: B},
    Action.INCIDENT_RESPOND: {_AO: P, _TO: T, _BM: B},
    Action.INCIDENT_MANAGE: {_AO: P, _TO: T},
    # "backups, restore drill — P, T (own data), AUDITOR read reports"
    Action.BACKUP_RUN: {_AO: P},
    Action.BACKUP_READ: {_AO: P, _TO: T, _AU: T},
    # "customer create/search": customers belong to the tenant; branch roles see the
    # purchase history of their branches only and edit customers enrolled there
    Action.CUSTOMER_MANAGE: {_TO: T, _BM: B, _SV: B, _CA: B},
    Action.LOYALTY_ADJUST: {_TO: T, _BM: B},
    # "customer PII export/erase — T"
    Action.CUSTOMER_PII: {_TO: T},
    # "legal hold, compliance export — P, T, AUDITOR read"
    Action.COMPLIANCE_READ: {_AO: P, _TO: T, _AU: T},
    Action.COMPLIANCE_MANAGE: {_AO: P, _TO: T},
    # forecasts are reports over synced data (like REP-O): owner, auditor, branch manager
    Action.FORECAST_READ: {_TO: T, _AU: T, _BM: B},
    # "REP-O reports: T, AUDITOR T, BR_MGR B, INV_CLERK B (inventory ones)"
    Action.REPORTS_OPERATIONAL: {_TO: T, _AU: T, _BM: B, _IC: B},
    # "CSV/printable export: T, AUDITOR T, BR_MGR B"
    Action.REPORT_EXPORT: {_TO: T, _AU: T, _BM: B},
    # no matrix row names releases: artifacts are the platform's (APPLICATION_OWNER); a
    # tenant's box rollout follows "create branch, enrol box" (P, T); reading follows the
    # audit/incident readers (P, T, AUDITOR T); docs/releases.md "Who may do what"
    Action.RELEASE_READ: {_AO: P, _TO: T, _AU: T},
    Action.RELEASE_MANAGE: {_AO: P},
    Action.ROLLOUT_MANAGE: {_AO: P, _TO: T},
}

# "REP-T reports: SUPERVISOR B (own branch, today)": actions a role may do only for the
# branch-local current day
TODAY_ONLY: dict[Action, frozenset[Role]] = {Action.SALES_READ: frozenset({_SV})}

# roles a BRANCH_MANAGER may grant ("manage users and roles: B (<= SUPERVISOR)")
BRANCH_MANAGER_GRANTABLE = frozenset({_SV, _CA, _IC})


@dataclass(frozen=True)
class Principal:
    """Who is acting: resolved from a session, API token or box enrolment, never the body."""

    kind: str  # "user", "token", "box", "staff"
    id: str
    role: Role
    tenant_id: str | None
    branch_ids: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    name: str = ""

    @property
    def actor(self) -> str:
        """Audit actor string, e.g. 'user:42'."""
        return f"{self.kind}:{self.id}"


def scope_for(principal: Principal, action: Action) -> Scope:
    """The scope the principal holds for an action, or raise Forbidden (FORBIDDEN_ROLE)."""
    if principal.role is Role.INTEGRATION:
        if action.value not in principal.scopes:
            raise Forbidden(f"token lacks scope {action.value}", Reason.FORBIDDEN_SCOPE)
        return T
    scope = MATRIX.get(action, {}).get(principal.role)
    if scope is None:
        raise Forbidden(
            f"role {principal.role.value} may not {action.value}",
            Reason.FORBIDDEN_ROLE,
            {"action": action.value, "role": principal.role.value},
        )
    return scope


def today_only(principal: Principal, action: Action) -> bool:
    """True if the matrix limits this principal's `action` to the branch-local today."""
    return principal.role in TODAY_ONLY.get(action, frozenset())


def authorize(
    principal: Principal,
    action: Action,
    *,
    tenant_id: str | None = None,
    branch_id: str | None = None,
) -> Scope:
    """Check role, tenant and branch for an action; return the scope or raise Forbidden."""
    scope = scope_for(principal, action)
    if scope is P:
        return scope
    if tenant_id is not None and tenant_id != principal.tenant_id:
        raise Forbidden("that tenant is not yours", Reason.FORBIDDEN_TENANT)
    if scope in (B, S, OVR) and branch_id is not None and branch_id not in principal.branch_ids:
        raise Forbidden("that branch is not assigned to you", Reason.FORBIDDEN_BRANCH)
    return scope
