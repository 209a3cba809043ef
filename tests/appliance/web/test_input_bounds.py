"""Every box input is bounded at the edge (issue 10 items 4 and 5; NFR-005).

Before: a NUL byte in a path, query or JSON string reached the services (and the audit
details), and a path integer too big for SQLite (Z report by number, resume of a parked
basket, a basket line) answered 500. Now the edge refuses control characters with 400
INVALID_TEXT naming where, and out-of-range path integers with 400 OUT_OF_RANGE; money
such as `1e400` is 400 INVALID_MONEY. Nothing is written for a refused request.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from tests.appliance.conftest import count

pytestmark = pytest.mark.req("NFR-005")
HUGE = "9" * 25  # far beyond SQLite's 2**63 - 1


def _refused(resp: Any, reason: str) -> dict[str, Any]:
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error: dict[str, Any] = resp.get_json()["error"]
    assert error["reason"] == reason
    return error


@pytest.mark.parametrize(
    ("method", "url", "body", "where"),
    [
        ("post", "/api/v1/basket/suspend", {"label": "park\x00ed"}, "JSON field label"),
        (
            "post",
            "/api/v1/basket/customer",
            {"customer_id": "c-1", "name": "A\x01"},
            "JSON field name",
        ),
        ("post", "/api/v1/basket/suspend", {"la\x00bel": "x"}, "JSON field la\\x00bel"),
        ("get", "/api/v1/products?q=mi%00lk", None, "query argument 'q'"),
        ("get", "/api/v1/refunds/lookup?co%00de=1", None, "query argument name 'co\\\\x00de'"),
        ("get", "/api/v1/sales/abc%00def", None, "path"),
        ("post", "/api/v1/sales/abc%00def/void", {}, "path"),
    ],
)
def test_control_characters_anywhere_are_invalid_text(
    shift_open: dict[str, Any],
    cashier: FlaskClient,
    box_db: SqliteDatabase,
    method: str,
    url: str,
    body: Any,
    where: str,
) -> None:
    audit_before = count(box_db, "audit_log")
    resp = getattr(cashier, method)(url, json=body)
    error = _refused(resp, "INVALID_TEXT")
    assert error["details"]["where"] == where
    assert count(box_db, "suspended_baskets") == 0
    assert count(box_db, "audit_log") == audit_before


def test_tab_and_newline_stay_allowed(shift_open: dict[str, Any], cashier: FlaskClient) -> None:
    body = {"amount": "1.00", "reason_code": "SAFE", "note": "two\tbags\nto the safe"}
    assert cashier.post("/api/v1/shifts/current/drops", json=body).status_code == 201


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"/api/v1/reports/z/{HUGE}"),
        ("post", f"/api/v1/reports/z/{HUGE}/print"),
        ("post", f"/api/v1/basket/suspended/{HUGE}/resume"),
        ("delete", f"/api/v1/basket/lines/{HUGE}"),
        ("post", f"/api/v1/basket/lines/{2**31}/price"),
    ],
)
def test_path_integers_beyond_range_are_out_of_range(
    shift_open: dict[str, Any], cashier: FlaskClient, method: str, url: str
) -> None:
    resp = getattr(cashier, method)(url, json={"unit_price": "1.00"})
    _refused(resp, "OUT_OF_RANGE")


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/shifts/current/drops", {"amount": "1e400", "reason_code": "SAFE"}),
        ("/api/v1/shifts/current/paid-outs", {"amount": "-1e400", "reason_code": "PETTY_CASH"}),
        ("/api/v1/shifts/current/close", {"counted": {"cash": "1e400"}}),
        ("/api/v1/basket/pay", {"tendered": "1e400", "idempotency_key": "big-money-1"}),
        (
            "/api/v1/basket/pay",
            {"tenders": [{"kind": "cash", "amount": "9" * 20}], "idempotency_key": "big-money-2"},
        ),
    ],
)
def test_huge_money_is_refused_not_a_500(
    shift_open: dict[str, Any], cashier: FlaskClient, url: str, body: dict[str, Any]
) -> None:
    cashier.post("/api/v1/basket/lines", json={"barcode": "4000000000013"})
    resp = cashier.post(url, json=body)
    assert resp.status_code in (400, 409), resp.get_data(as_text=True)
    assert resp.get_json()["error"]["reason"] in {
        "INVALID_MONEY",
        "VALIDATION_FAILED",
        "OUT_OF_RANGE",
    }


def test_json_nested_too_deep_is_malformed_not_a_500(
    shift_open: dict[str, Any], cashier: FlaskClient
) -> None:
    deep = "[" * 1_020 + "]" * 1_020  # past the parser's recursion limit, within the 2 KiB cap
    resp = cashier.post("/api/v1/basket/suspend", data=deep, content_type="application/json")
    _refused(resp, "MALFORMED_JSON")
