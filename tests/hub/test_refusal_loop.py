"""Issue 9 (FR-303, NFR-003, NFR-006): the hub sees the refused events a box still holds and
closes the loop. A heartbeat's `refused`/`refused_sales` reach the sync-health and fleet API
and pages and the /metrics gauges; resolving the reconciliation item of a refused event bumps
the `refusals` down kind, whose body names that event (id and seq) for its box only, while
resolving any other item leaves the boxes' messages alone."""

from __future__ import annotations

import json
import re

import pytest

from hub.core.db import tenant_tx
from hub.governance import versions
from hub.identity.models import Box
from hub.sync.downlink import messages_for_box
from hub.sync.handling import handle_status
from posdomain import topics
from posdomain.contract import RefusalResolutions
from scripts.testkit.crafted import B, T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import rejected, sale, send

pytestmark = [pytest.mark.pg]


def _beat(box: str, **fields: object) -> None:
    body = {"v": 1, "box_id": box, "online": True, "queued": 0, **fields}
    handle_status(topics.box_status(box), json.dumps(body).encode(), retained=False)


@pytest.mark.req("FR-303", "NFR-006")
def test_the_heartbeat_refused_counts_show_per_box_and_as_gauges(app, client):
    box = enrol_box(T, B)
    _beat(box, refused=2, refused_sales=1)
    _beat(box, online=False, queued=None)  # a last will keeps what the box last reported
    login(client, "owner")

    health = client.get("/api/v1/sync/health").get_json()["items"]
    row = next(r for r in health if r["box_id"] == box)
    assert (row["refused"], row["refused_sales"]) == (2, 1)
    fleet = client.get("/api/v1/fleet").get_json()
    branch = next(b for b in fleet["branches"] if b["branch_id"] == B)
    mine = next(x for x in branch["boxes"] if x["box_id"] == box)
    assert (mine["refused"], mine["refused_sales"]) == (2, 1)
    assert branch["refused_sales"] >= 1
    page = client.get(f"/fleet/{B}").get_data(as_text=True)
    assert "Refused events (sales), open on the box" in page
    assert ">2 (1)</a>" in page
    assert ">2 (1)</a>" in client.get("/sync").get_data(as_text=True)

    text = client.get("/metrics").get_data(as_text=True)
    line = re.search(rf'cfpos_box_refused_sales{{box="{box}",[^}}]*}} (\S+)', text)
    assert line is not None
    assert float(line[1]) == 1.0
    assert re.search(rf'cfpos_box_refused_events{{box="{box}",[^}}]*}} 2\.0', text)

    _beat(box, refused=0, refused_sales=0)  # settled on the box
    health = client.get("/api/v1/sync/health").get_json()["items"]
    row = next(r for r in health if r["box_id"] == box)
    assert (row["refused"], row["refused_sales"]) == (0, 0)


def _refusals(box_id: str) -> tuple[int, RefusalResolutions | None]:
    with tenant_tx(T):
        box = Box.get(Box.box_id == box_id)
        version = versions.current(T, "refusals")
        found = [m for t, m in messages_for_box(box) if t == topics.box_down(box_id, "refusals")]
    body = RefusalResolutions.model_validate(found[0].body) if found else None
    return version, body


def _item_id(client, box: str, kind: str) -> str:
    resp = client.get("/api/v1/reconciliation", query_string={"kind": kind, "state": "open"})
    return next(i["id"] for i in resp.get_json()["items"] if i["box_id"] == box)


@pytest.mark.req("FR-303", "NFR-003")
def test_resolving_a_refused_event_tells_its_box_and_nothing_else_does(app, client):
    box, other = enrol_box(T, B), enrol_box(T, B)
    send(box, [sale(box, 1), sale(box, 2)])  # a crafted event took seq 2 first
    real = sale(box, 2)
    assert rejected(send(box, [real])) == {2: "SEQ_CONFLICT"}
    send(box, [sale(box, 3, cashier_id="u-nobody")])  # a stored sale with a CASHIER_UNKNOWN
    login(client, "owner")
    before, _ = _refusals(box)

    unknown = _item_id(client, box, "CASHIER_UNKNOWN")
    ok = client.post(f"/api/v1/reconciliation/{unknown}/resolve", json={"note": "temp staff"})
    assert ok.status_code == 200
    assert _refusals(box)[0] == before, "an item of a stored sale does not concern the box"

    item = _item_id(client, box, "SEQ_CONFLICT")
    note = "Sale re-entered by head office"
    resolved = client.post(f"/api/v1/reconciliation/{item}/resolve", json={"note": note})
    assert resolved.status_code == 200, resolved.get_json()
    version, body = _refusals(box)
    assert version == before + 1
    assert body is not None
    [entry] = [r for r in body.resolved if r.event_id == real["event_id"]]
    assert (entry.seq, entry.note) == (2, note)
    assert entry.resolved_by
    _, elsewhere = _refusals(other)
    assert elsewhere is not None
    assert elsewhere.resolved == [], "another box's message names none of this box's events"
    again = client.post(f"/api/v1/reconciliation/{item}/resolve", json={"note": "twice"})
    assert again.status_code == 409
    assert _refusals(box)[0] == version
