"""Permission matrix (FR-003): every role and action, plus tenant, branch and token scopes."""

from __future__ import annotations

import pytest

from posdomain.errors import Forbidden, Reason
from posdomain.permissions import (
    MATRIX,
    Action,
    Principal,
    Role,
    Scope,
    authorize,
    scope_for,
    today_only,
)

HUMAN_ROLES = [r for r in Role if r is not Role.INTEGRATION]


def principal(
    role: Role, *, tenant: str | None = "t1", branches: set[str] | None = None
) -> Principal:
    return Principal(
        kind="user", id="42", role=role, tenant_id=tenant, branch_ids=frozenset(branches or {"b1"})
    )


@pytest.mark.req("FR-003")
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_every_role_action_pair(role: Role, action: Action) -> None:
    expected = MATRIX.get(action, {}).get(role)
    p = principal(role)
    if expected is None:
        with pytest.raises(Forbidden) as info:
            scope_for(p, action)
        assert info.value.reason is Reason.FORBIDDEN_ROLE
        assert info.value.status == 403
        assert info.value.details == {"action": action.value, "role": role.value}
    else:
        assert scope_for(p, action) is expected
        assert authorize(p, action, tenant_id="t1", branch_id="b1") is expected


def test_every_action_has_a_matrix_row() -> None:
    assert set(MATRIX) == set(Action)


@pytest.mark.req("FR-003", "FR-100")
@pytest.mark.parametrize(
    ("action", "role"),
    [(a, r) for a, row in MATRIX.items() for r, s in row.items() if s is not Scope.PLATFORM],
)
def test_tenant_mismatch_forbidden(action: Action, role: Role) -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(role), action, tenant_id="t2")
    assert info.value.reason is Reason.FORBIDDEN_TENANT


@pytest.mark.req("FR-003", "FR-101")
@pytest.mark.parametrize(
    ("action", "role"),
    [(a, r) for a, row in MATRIX.items() for r, s in row.items()
     if s in (Scope.BRANCH, Scope.SELF, Scope.OVERRIDE)],
)  # fmt: skip
def test_branch_mismatch_forbidden(action: Action, role: Role) -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(role), action, tenant_id="t1", branch_id="b9")
    assert info.value.reason is Reason.FORBIDDEN_BRANCH


@pytest.mark.req("FR-003")
def test_tenant_scoped_role_may_act_on_any_branch_of_its_tenant() -> None:
    assert (
        authorize(principal(Role.TENANT_OWNER), Action.CONFIG_EDIT, branch_id="b9") is Scope.TENANT
    )


@pytest.mark.req("FR-003")
def test_platform_scope_ignores_tenant() -> None:
    owner = principal(Role.APPLICATION_OWNER, tenant=None)
    assert authorize(owner, Action.TENANT_ADMIN, tenant_id="any", branch_id="x") is Scope.PLATFORM


@pytest.mark.req("FR-003")
def test_integration_token_scopes() -> None:
    token = Principal(
        kind="token", id="tok1", role=Role.INTEGRATION, tenant_id="t1",
        scopes=frozenset({Action.SALES_READ.value}),
    )  # fmt: skip
    assert authorize(token, Action.SALES_READ, tenant_id="t1") is Scope.TENANT
    with pytest.raises(Forbidden) as info:
        authorize(token, Action.PRODUCT_CRUD, tenant_id="t1")
    assert info.value.reason is Reason.FORBIDDEN_SCOPE
    with pytest.raises(Forbidden) as other:
        authorize(token, Action.SALES_READ, tenant_id="t2")
    assert other.value.reason is Reason.FORBIDDEN_TENANT


def test_cashier_override_and_self_scopes() -> None:
    cashier = principal(Role.CASHIER)
    assert scope_for(cashier, Action.NO_SALE) is Scope.OVERRIDE
    assert scope_for(cashier, Action.SHIFT) is Scope.SELF
    with pytest.raises(Forbidden):
        scope_for(cashier, Action.Z_REPORT)


def test_actor_string() -> None:
    assert principal(Role.CASHIER).actor == "user:42"


@pytest.mark.req("FR-003", "FR-100", "FR-101")
def test_every_denial_answers_its_reason_and_message() -> None:
    cashier = principal(Role.CASHIER)
    with pytest.raises(Forbidden) as role:
        authorize(cashier, Action.Z_REPORT, tenant_id="t1", branch_id="b1")
    assert role.value.to_dict() == {
        "error": {
            "reason": "FORBIDDEN_ROLE",
            "message": "role CASHIER may not report.z",
            "details": {"action": "report.z", "role": "CASHIER"},
        }
    }
    with pytest.raises(Forbidden) as tenant:
        authorize(cashier, Action.SELL, tenant_id="t2", branch_id="b1")
    assert tenant.value.to_dict() == {
        "error": {"reason": "FORBIDDEN_TENANT", "message": "that tenant is not yours"}
    }
    with pytest.raises(Forbidden) as branch:
        authorize(cashier, Action.SELL, tenant_id="t1", branch_id="b2")
    assert branch.value.to_dict() == {
        "error": {"reason": "FORBIDDEN_BRANCH", "message": "that branch is not assigned to you"}
    }
    token = Principal(kind="token", id="t", role=Role.INTEGRATION, tenant_id="t1")
    with pytest.raises(Forbidden) as scope:
        authorize(token, Action.SALES_READ, tenant_id="t1")
    assert scope.value.to_dict() == {
        "error": {"reason": "FORBIDDEN_SCOPE", "message": "token lacks scope sales.read"}
    }


@pytest.mark.req("FR-003")
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", HUMAN_ROLES)
def test_only_a_supervisor_reads_rep_t_for_today_only(role: Role, action: Action) -> None:
    # "REP-T reports: SUPERVISOR B (own branch, today)"; every other grant is unlimited in time
    limited = role is Role.SUPERVISOR and action is Action.SALES_READ
    assert today_only(principal(role), action) is limited
