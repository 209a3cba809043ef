"""Edge hygiene (P0 probe items 4 and 5): control characters and unbounded numbers never 500.

Each case was a 500 on the code before this test: a NUL byte reaching PostgreSQL text or
JSONB, `?page=` past bigint, `1e400` reaching Decimal.quantize, a year-0999 policy time.
Every refusal must also leave nothing half-written (the row counts do not move).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.catalog.models import Product
from hub.core.db import platform_tx, tenant_tx
from hub.governance.models import AuditLog
from hub.pricing.models import PricingPolicy
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg]
T, B, B2 = "t-greenbasket", "b-downtown", "b-riverside"
HUGE_PAGE = "576460752303423487"
PAGED = (
    "/api/v1/sales",
    f"/api/v1/tenants/{T}/branches/{B}/sales",
    "/api/v1/audit",
    "/api/v1/inventory/on-hand",
    f"/api/v1/inventory/branches/{B}/products/p-001/movements",
    "/api/v1/inventory/alerts",
    "/api/v1/inventory/transfers",
    "/api/v1/reconciliation",
    "/api/v1/pricing/policies",
    "/api/v1/products",
)


def _reason(resp: Any) -> str:
    return str(resp.get_json()["error"]["reason"])


def _counts() -> tuple[int, int, int]:
    with tenant_tx(T):
        return Product.select().count(), PricingPolicy.select().count(), AuditLog.select().count()


def _product(**over: Any) -> dict[str, Any]:
    body = {
        "sku": f"EDGE-{uuid.uuid4().hex[:8]}",
        "name": "Edge case",
        "tax_class": "STD",
        "price": "1.00",
    }
    return {**body, **over}


def _policy(**over: Any) -> dict[str, Any]:
    body = {
        "kind": "percent",
        "target": {"product_ids": ["p-003"], "categories": []},
        "params": {"percent": "15"},
        "reason": "edge",
        "impact": "edge",
        "change_ref": "EDGE-1",
    }
    return {**body, **over}


@pytest.fixture
def owner(client: FlaskClient) -> FlaskClient:
    login(client, "owner")
    return client


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize("path", PAGED)
def test_huge_page_numbers_are_refused_not_500(owner, path):
    for page in (HUGE_PAGE, "0", "-3", "1e9", "x"):
        resp = owner.get(f"{path}?page={page}")
        assert resp.status_code == 400, (path, page, resp.status_code)
        assert _reason(resp) == "OUT_OF_RANGE"
    assert owner.get(f"{path}?page=2").status_code == 200
    assert owner.get(f"{path}?page_size=100000").status_code in (200, 400)


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize(
    "money", ["1e400", "-1e400", "1E+999999999", "9" * 30, "1e-400", "NaN", "-Infinity"]
)
def test_huge_money_values_are_refused(owner, money):
    before = _counts()
    cases = [
        owner.post("/api/v1/products", json=_product(price=money)),
        owner.put(f"/api/v1/products/p-001/branch-prices/{B}", json={"price": money}),
        owner.post(
            "/api/v1/products",
            json=_product(wholesale_tiers=[{"min_qty": money[:20], "price": "1.00"}]),
        ),
        owner.post("/api/v1/pricing/policies", json=_policy(params={"percent": money})),
        owner.post(
            "/api/v1/pricing/policies",
            json=_policy(kind="amount", params={"amount": money}),
        ),
    ]
    csv_text = f"sku,name,tax_class,price\nEDGE-CSV-1,Csv edge,standard,{money}\n"
    cases.append(
        owner.post(
            "/api/v1/products/import",
            data={"file": (io.BytesIO(csv_text.encode()), "c.csv")},
            content_type="multipart/form-data",
            headers={"X-CSRF-Token": _csrf(owner)},
        )
    )
    for resp in cases:
        assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True)[:300])
    if len(money) <= 20:  # longer strings stop at the schema's max_length
        assert _reason(cases[0]) == "INVALID_MONEY"
        assert _reason(cases[1]) == "INVALID_MONEY"
    assert _counts()[:2] == before[:2]


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize("when", ["0999-12-31T00:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_policy_times_before_year_1000_are_refused(owner, when):
    before = _counts()
    for field in ("effectiveFrom", "effectiveTo"):
        resp = owner.post("/api/v1/pricing/policies", json=_policy(**{field: when}))
        assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert owner.get(f"/api/v1/pricing/policies/preview?at={when}").status_code == 400
    assert _counts()[:2] == before[:2]


def _csrf(client: FlaskClient) -> str:
    return str(client.get("/api/v1/auth/me").get_json()["csrf_token"])


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x1b[31m", "\x7f", "x\x08"])
def test_control_characters_anywhere_are_refused_with_a_reason(owner, bad):
    before = _counts()
    enc = bad.encode().hex()
    pct = "".join(f"%{enc[i : i + 2]}" for i in range(0, len(enc), 2))
    cases = [
        owner.get(f"/api/v1/products/p{pct}"),
        owner.get(f"/api/v1/products?q={pct}"),
        owner.get(f"/api/v1/sales?branch_id={pct}"),
        owner.post("/api/v1/products", json=_product(name=f"Milk{bad}")),
        owner.post("/api/v1/categories", json={"code": "EDGE", "name": f"x{bad}"}),
        owner.put("/api/v1/flags/loyalty_rules", json={"enabled": True, "reason": bad}),
        owner.post("/api/v1/pricing/policies", json=_policy(reason=f"r{bad}")),
        owner.post("/api/v1/pricing/policies", json=_policy(target={f"k{bad}": []})),
        owner.post(
            "/api/v1/products/import",
            data={"file": (io.BytesIO(f"sku,name\nS{bad},n\n".encode()), "c.csv")},
            content_type="multipart/form-data",
            headers={"X-CSRF-Token": _csrf(owner)},
        ),
        owner.post(
            "/api/v1/products/import",
            data=f"sku,name\nS{bad},n\n".encode(),
            content_type="text/csv",
            headers={"X-CSRF-Token": _csrf(owner)},
        ),
        owner.post(
            "/catalog/new",
            data={"name": f"n{bad}", "csrf_token": _csrf(owner)},
        ),
    ]
    for resp in cases:
        assert resp.status_code == 400, (resp.status_code, resp.get_data(as_text=True)[:300])
        if resp.is_json:
            assert _reason(resp) == "INVALID_TEXT"
    assert _counts()[:2] == before[:2]


@pytest.mark.req("NFR-005", "FR-002")
def test_a_denied_request_with_nul_in_its_path_is_audited_not_500(client):
    login(client, "cashier")
    with platform_tx():
        seq_before = AuditLog.select().where(AuditLog.chain == T).count()
    resp = client.get("/api/v1/tenants/t-harborfoods%00x/branches")
    assert resp.status_code in (400, 403)
    assert resp.get_json()["error"]["reason"] in ("INVALID_TEXT", "FORBIDDEN_TENANT")
    with platform_tx():
        rows = list(
            AuditLog.select()
            .where(AuditLog.chain == T)
            .order_by(AuditLog.seq.desc())
            .limit(AuditLog.select().where(AuditLog.chain == T).count() - seq_before)
        )
    assert rows, "the refused request left no audit entry"
    assert "\\x00" in str(rows[0].details), rows[0].details


@pytest.mark.req("NFR-005")
def test_tabs_and_newlines_stay_allowed(owner):
    resp = owner.put(
        "/api/v1/flags/loyalty_rules",
        json={"enabled": False, "reason": "line one\nline\ttwo\r\n"},
    )
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.req("NFR-005")
def test_a_crash_mid_write_leaves_nothing(owner, monkeypatch):
    """A 5xx in the middle of a write (after the product row, at its audit entry) rolls the
    whole request back: no product, no audit entry, no catalog version bump."""
    before = _counts()
    sku = f"CRASH-{uuid.uuid4().hex[:8]}"

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("injected crash after the first row")

    monkeypatch.setattr("hub.governance.audit.append", boom)
    resp = owner.post("/api/v1/products", json=_product(sku=sku))
    monkeypatch.undo()
    assert resp.status_code == 500
    assert _reason(resp) == "INTERNAL"
    with tenant_tx(T):
        assert Product.select().where(Product.sku == sku).count() == 0
    assert _counts() == before
