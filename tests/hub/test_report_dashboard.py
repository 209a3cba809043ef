"""The portal overview (FR-601): hourly trend against last week as inline SVG, top products,
open alerts, boxes online/offline with sync lag, drill-down branch → box → transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.core import db as hub_db
from scripts.testkit.crafted import B, T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import envelope, send
from tests.hub.report_helpers import item, new_products, priced_sale
from tests.hub.test_reports_access import as_role

pytestmark = [pytest.mark.pg]


@pytest.fixture(scope="module")
def sold(_session_app: Any, hub_urls: tuple[str, str]) -> dict[str, Any]:
    """Sales now and a week ago at the demo branch (B)."""
    hub_db.bind(hub_urls[1])
    prods = new_products()
    box = enrol_box(T, B)
    now = datetime.now(UTC)
    bodies = [
        # sold in bulk: other tests of the session sell today too, and the top list is short
        priced_sale(1, [item(prods[1], 400)], now - timedelta(minutes=1), cash=False),
        priced_sale(2, [item(prods[0], 1)], now - timedelta(days=7), cash=False),
    ]
    events = [envelope(box, n, b) for n, b in enumerate(bodies, start=1)]
    ack = send(box, events)
    assert ack is not None
    assert ack.rejected == []
    return {"box": box, "sales": bodies, "top": bodies[0]["lines"][0]["name"]}


@pytest.mark.req("FR-601")
def test_overview_shows_trend_top_products_alerts_and_boxes(app, client, sold):
    login(client, "owner")
    page = client.get("/").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "last week" in page
    assert sold["top"] in page  # top products today
    assert "Open alerts" in page
    assert " online, " in page
    assert "Sync lag" in page
    assert "<script" not in page  # no script, and nothing fetched from elsewhere
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert f'href="/overview/branches/{B}"' in page
    branch = client.get(f"/overview/branches/{B}").get_data(as_text=True)
    assert f'href="/overview/boxes/{sold["box"]}"' in branch
    box = client.get(f"/overview/boxes/{sold['box']}").get_data(as_text=True)
    sale_id = sold["sales"][0]["sale_id"]
    assert f'href="/sales/{sale_id}"' in box
    assert sold["sales"][1]["sale_id"] not in box  # a week ago is not today
    assert client.get(f"/sales/{sale_id}").status_code == 200
    assert client.get(f"/overview/boxes/{sold['box']}?sort=nope").status_code == 400


@pytest.mark.req("FR-601")
def test_supervisor_sees_no_last_week_and_field_tech_no_sales(app, sold):
    sup = as_role(app, "SUPERVISOR", [B])
    page = sup.get("/").get_data(as_text=True)
    assert "<svg" in page
    assert "last week" not in page
    tech = as_role(app, "FIELD_TECH", [B])
    page = tech.get("/").get_data(as_text=True)
    assert "Top products" not in page
    assert "Transactions" not in page
    assert "online" in page
    assert tech.get(f"/overview/branches/{B}").status_code == 403
