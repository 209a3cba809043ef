"""The customer, loyalty and staff parts of hub/openapi.yaml equal their pydantic models (the
source of truth), and what the endpoints answer validates against those models."""

from __future__ import annotations

import uuid

import pytest

from hub.customers.schemas import CustomerOut, CustomerPage, HistoryPage, PointsPage
from hub.identity.staff_schemas import StaffOut, StaffPage
from scripts import openapi_fragments
from tests.hub.conftest import login

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-800", "FR-400", "FR-102")]


def test_openapi_blocks_are_generated_from_the_models() -> None:
    doc = openapi_fragments.DOC.read_text(encoding="utf-8")
    assert openapi_fragments.render(doc) == doc, "run: python -m scripts.openapi_fragments"


def test_answers_match_the_documented_models(client) -> None:
    login(client, "owner")
    made = client.post("/api/v1/customers", json={"display_name": "Doc Check", "new_card": True})
    customer = CustomerOut.model_validate(made.get_json())
    CustomerPage.model_validate(client.get("/api/v1/customers").get_json())
    HistoryPage.model_validate(client.get(f"/api/v1/customers/{customer.id}/history").get_json())
    PointsPage.model_validate(client.get(f"/api/v1/customers/{customer.id}/points").get_json())
    body = {
        "username": f"d{uuid.uuid4().hex[:8]}",
        "display_name": "Doc",
        "role": "CASHIER",
        "branch_ids": ["b-downtown"],
    }
    staff = StaffOut.model_validate(client.post("/api/v1/staff", json=body).get_json())
    StaffOut.model_validate(client.post(f"/api/v1/staff/{staff.id}/pin/reset", json={}).get_json())
    StaffPage.model_validate(client.get("/api/v1/staff").get_json())
