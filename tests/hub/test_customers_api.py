"""Customers API and pages (FR-400, FR-401 adjustments): create/edit/search by name, phone,
e-mail or card, purchase history, consent, bad input with reason codes and nothing written,
roles per the matrix with audited denials, cross-tenant probes on every endpoint."""

from __future__ import annotations

import re
import uuid

import pytest

from hub.core.db import tenant_tx
from hub.customers.models import Customer
from posdomain.customer_fields import new_card
from tests.hub.conftest import enrol_box, login
from tests.hub.loyalty_helpers import customer_sale, enable_loyalty, send

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-400")]
T = "t-greenbasket"


def _card() -> str:
    return new_card()


def _create(client, **body):
    data = {"display_name": f"Cus {uuid.uuid4().hex[:6]}", **body}
    return client.post("/api/v1/customers", json=data)


def test_create_search_edit_and_read_a_customer(client):
    login(client, "owner")
    card = _card()
    resp = _create(
        client,
        full_name="Anna Karlsson",
        phone="+46 70-123 45 67",
        email="Anna@Example.org",
        card=card,
        consent_marketing=True,
    )
    assert resp.status_code == 201, resp.get_json()
    c = resp.get_json()
    assert (c["phone"], c["email"], c["card"], c["points"]) == (
        "+46701234567",
        "anna@example.org",
        card,
        0,
    )
    for q in ("karlsson", "701234", "anna@example", card):
        found = client.get("/api/v1/customers", query_string={"q": q}).get_json()
        assert c["id"] in [i["id"] for i in found["items"]], q
    assert client.get(f"/api/v1/customers/by-card/{card}").get_json()["id"] == c["id"]
    patched = client.patch(
        f"/api/v1/customers/{c['id']}", json={"consent_marketing": False, "phone": ""}
    )
    assert patched.status_code == 200
    assert patched.get_json()["consent_marketing"] is False
    assert patched.get_json()["phone"] is None
    audit = client.get("/api/v1/audit").get_json()["items"]
    entry = next(
        e
        for e in audit
        if e["action"] == "customer.updated" and e["target"] == f"customer:{c['id']}"
    )
    assert entry["details"]["before"] == {"consent_marketing": True}
    assert "701234" not in str(entry["details"])  # no PII in the audit chain
    paged = client.get("/api/v1/customers", query_string={"page_size": 1}).get_json()
    assert paged["page_size"] == 1
    assert len(paged["items"]) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"phone": "12ab"}, "INVALID_PHONE"),
        ({"email": "not-an-address"}, "INVALID_EMAIL"),
        ({"card": "1234567890123"}, "INVALID_CARD"),  # bad check digit
        ({"display_name": ""}, "VALIDATION_FAILED"),
        ({"display_name": "x\x00y"}, "INVALID_TEXT"),  # refused at the edge (hub.edge)
        ({"surprise": 1}, "VALIDATION_FAILED"),
        ({"home_branch_id": "b-harbor-main"}, "UNKNOWN_BRANCH"),  # another tenant's branch
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_written(client, body, reason):
    login(client, "owner")
    with tenant_tx(T):
        before = Customer.select().count()
    resp = _create(client, **body)
    assert resp.status_code in (400, 404)
    assert resp.get_json()["error"]["reason"] == reason
    with tenant_tx(T):
        assert Customer.select().count() == before


def test_a_card_belongs_to_one_customer(client):
    login(client, "owner")
    card = _card()
    assert _create(client, card=card).status_code == 201
    taken = _create(client, card=card)
    assert (taken.status_code, taken.get_json()["error"]["reason"]) == (409, "CARD_TAKEN")
    unknown = client.get(f"/api/v1/customers/by-card/{_card()}")
    assert (unknown.status_code, unknown.get_json()["error"]["reason"]) == (404, "UNKNOWN_CARD")


def test_history_lists_the_customers_sales_with_links_and_points(app, client):
    enable_loyalty()
    login(client, "owner")
    cid = _create(client).get_json()["id"]
    box = enrol_box(T, "b-downtown")
    sale = customer_sale(box, 1, cid)
    send(box, [sale])
    history = client.get(f"/api/v1/customers/{cid}/history").get_json()
    assert history["total"] == 1
    item = history["items"][0]
    assert item["link"] == f"/api/v1/sales/{sale['payload']['sale_id']}"
    assert (item["doc_kind"], item["total"], item["points"]) == ("sale", "2.98", 56)
    assert client.get(item["link"]).status_code == 200
    points = client.get(f"/api/v1/customers/{cid}/points").get_json()
    assert points["balance"] == 56
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="balance">56<' in page


@pytest.mark.req("FR-401")
def test_manual_adjustment_needs_a_reason_the_right_role_and_is_audited(client):
    login(client, "owner")
    cid = _create(client, home_branch_id="b-downtown").get_json()["id"]
    url = f"/api/v1/customers/{cid}/points/adjustments"
    assert (
        client.post(url, json={"points": 50}).get_json()["error"]["reason"] == "VALIDATION_FAILED"
    )
    for bad in (0, 1.5, "10", True):
        assert client.post(url, json={"points": bad, "reason_code": "GOODWILL"}).status_code == 400
    below = client.post(url, json={"points": -5, "reason_code": "CORRECTION"})
    assert below.get_json()["error"]["reason"] == "INVALID_POINTS"
    key = uuid.uuid4().hex
    ok = client.post(
        url, json={"points": 50, "reason_code": "GOODWILL", "note": "sorry", "idempotency_key": key}
    )
    assert (ok.status_code, ok.get_json()["balance"]) == (201, 50)
    again = client.post(url, json={"points": 50, "reason_code": "GOODWILL", "idempotency_key": key})
    assert (again.status_code, again.get_json()["replayed"], again.get_json()["balance"]) == (
        200,
        True,
        50,
    )
    audit = client.get("/api/v1/audit").get_json()["items"]
    assert any(e["action"] == "loyalty.adjusted" and e["details"]["after"] == 50 for e in audit)
    client.post("/api/v1/auth/logout")
    login(client, "manager")  # branch manager of b-downtown: allowed for this customer
    assert client.post(url, json={"points": 5, "reason_code": "GOODWILL"}).status_code == 201
    client.post("/api/v1/auth/logout")
    login(client, "cashier")
    denied = client.post(url, json={"points": 5, "reason_code": "GOODWILL"})
    assert (denied.status_code, denied.get_json()["error"]["reason"]) == (403, "FORBIDDEN_ROLE")
    assert client.get(f"/api/v1/customers/{cid}").status_code == 200  # cashiers may look up


def test_roles_without_customer_access_are_denied_and_audited(client):
    login(client, "auditor")
    denied = client.get("/api/v1/customers")
    assert (denied.status_code, denied.get_json()["error"]["reason"]) == (403, "FORBIDDEN_ROLE")
    client.post("/api/v1/auth/logout")
    login(client, "owner")
    audit = client.get("/api/v1/audit").get_json()["items"]
    assert any(
        e["action"] == "access.denied" and e["details"]["path"] == "/api/v1/customers"
        for e in audit
    )


def test_branch_manager_edits_only_customers_of_their_branches(client):
    login(client, "owner")
    riverside = _create(client, home_branch_id="b-riverside").get_json()["id"]
    client.post("/api/v1/auth/logout")
    login(client, "manager")
    mine = _create(client)
    assert mine.get_json()["home_branch_id"] == "b-downtown"
    assert (
        client.patch(f"/api/v1/customers/{riverside}", json={"full_name": "X"}).status_code == 403
    )
    assert client.get(f"/api/v1/customers/{riverside}").status_code == 200
    assert _create(client, home_branch_id="b-riverside").status_code == 403


def test_cross_tenant_probes_get_404_never_data(client):
    login(client, "harbor-owner")
    theirs = _create(client, card=_card()).get_json()
    client.post("/api/v1/auth/logout")
    login(client, "owner")
    cid = theirs["id"]
    probes = [
        client.get(f"/api/v1/customers/{cid}"),
        client.patch(f"/api/v1/customers/{cid}", json={"full_name": "x"}),
        client.get(f"/api/v1/customers/{cid}/history"),
        client.get(f"/api/v1/customers/{cid}/points"),
        client.post(
            f"/api/v1/customers/{cid}/points/adjustments",
            json={"points": 5, "reason_code": "GOODWILL"},
        ),
        client.get(f"/api/v1/customers/by-card/{theirs['card']}"),
        client.get(f"/customers/{cid}"),
    ]
    assert [p.status_code for p in probes] == [404] * 7
    found = client.get("/api/v1/customers", query_string={"q": theirs["display_name"]}).get_json()
    assert found["total"] == 0
    assert client.get("/api/v1/tenants/t-harborfoods/staff").status_code == 404  # no such route


def test_portal_pages_render_and_create(client):
    login(client, "owner")
    page = client.get("/customers").get_data(as_text=True)
    assert '<label for="q">' in page
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/customers/new").get_data(as_text=True)
    )
    assert token
    resp = client.post(
        "/customers/new",
        data={"csrf_token": token[1], "display_name": "Page Made", "phone": "bad!"},
    )
    assert resp.status_code == 400
    assert "INVALID_PHONE" in resp.get_data(as_text=True)
    resp = client.post(
        "/customers/new",
        data={"csrf_token": token[1], "display_name": "Page Made", "new_card": "on"},
    )
    assert resp.status_code == 302
    assert "Page Made" in client.get(resp.headers["Location"]).get_data(as_text=True)
