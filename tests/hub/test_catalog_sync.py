"""Catalog to boxes (FR-200, CONTRACT "Catalog sync"): chunks, head, requests over real MQTT."""

from __future__ import annotations

import itertools
import queue
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.catalog import service as catalog
from hub.catalog.chunks import MAX_CHUNK_PRODUCTS, build_chunks, chunk_messages
from hub.catalog.csv_import import import_csv
from hub.catalog.csv_rows import header_line, render_row
from hub.catalog.models import Product
from hub.catalog.rules import ProductIn
from hub.catalog.store import current_version
from hub.core.db import db, platform_tx, tenant_tx
from hub.demo.catalog_bench import generate_csv, make_bench_tenant
from hub.demo.seed import demo_box_id
from hub.identity.models import Box, Branch
from hub.sync import downlink
from hub.sync.box_requests import handle_request
from hub.sync.models import Quarantine
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import BoxRequest, DownMessage, decode, encode
from posdomain.permissions import Principal, Role, Scope
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg]
T, BRANCH = "t-greenbasket", "b-downtown"


def owner_of(tenant_id: str) -> Principal:
    return Principal(kind="user", id="sync-test", role=Role.TENANT_OWNER, tenant_id=tenant_id)


def chunks(tenant_id: str, branch_id: str, since: int) -> list[dict]:
    with tenant_tx(tenant_id):
        return build_chunks(tenant_id, branch_id, since)


@pytest.fixture
def big_tenant(app) -> tuple[str, str]:
    """A tenant with 1 200 imported products and one branch."""
    tenant_id = make_bench_tenant()
    with platform_tx():
        Branch.create(id=f"b-{tenant_id}", tenant_id=tenant_id, name="Bench branch")
    import_csv(owner_of(tenant_id), tenant_id, Scope.TENANT, generate_csv(1_200))
    return tenant_id, f"b-{tenant_id}"


@pytest.mark.req("FR-200")
def test_a_big_catalog_is_answered_in_windows_that_chain_to_the_head(big_tenant):
    """Issue 15 item 7: one answer carries a window of whole versions; asking again from the
    last chunk of each window reaches the head with every product exactly once."""
    tenant_id, branch = big_tenant
    since, seen, answers = 0, [], 0
    with tenant_tx(tenant_id):
        head = current_version(tenant_id)
        while since < head:
            bodies = build_chunks(tenant_id, branch, since, limit=500)
            answers += 1
            assert sum(len(b["products"]) for b in bodies) <= 500
            assert [b["last"] for b in bodies] == [False] * (len(bodies) - 1) + [True]
            assert bodies[0]["from_version"] == since
            for prev, nxt in itertools.pairwise(bodies):
                assert nxt["from_version"] == prev["to_version"]
            seen += [p["sku"] for b in bodies for p in b["products"]]
            since = bodies[-1]["to_version"]
    assert answers == 3
    assert since == head
    assert len(seen) == len(set(seen)) == 1_200


@pytest.mark.req("FR-200", "FR-303")
def test_every_chunk_names_where_its_answer_ends_so_the_box_can_ask_ahead(big_tenant):
    """Issue 15 item 7: `window_to` on every chunk of an answer is its last chunk's
    `to_version`; asking from there (before the rest has landed) continues the chain."""
    tenant_id, branch = big_tenant
    with tenant_tx(tenant_id):
        first = build_chunks(tenant_id, branch, 0, limit=1000)
        ahead = build_chunks(tenant_id, branch, first[0]["window_to"], limit=1000)
        head = current_version(tenant_id)
    assert len(first) == 2
    assert [b["window_to"] for b in first] == [first[-1]["to_version"]] * 2
    assert first[0]["window_to"] < head
    assert ahead[0]["from_version"] == first[-1]["to_version"]
    assert [b["window_to"] for b in ahead] == [head] * len(ahead)
    skus = [p["sku"] for b in first + ahead for p in b["products"]]
    assert len(skus) == len(set(skus)) == 1_200


@pytest.mark.req("FR-200")
def test_chunk_messages_splice_each_product_into_the_canonical_message(big_tenant):
    """Issue 15 item 7: every product is encoded once and its bytes spliced into the catalog
    message: the bytes are exactly `encode` of the decoded message (the box's canonical
    form), carrying the bodies `build_chunks` gives, also for names with quotes, the splice
    mark itself and non-ASCII text."""
    tenant_id, branch = big_tenant
    odd = {"sku": "ODD-1", "tax_class": "STD", "price": "1.00", "category": "BENCH"}
    names = ['Say "products":0 twice', "\u00c4pfel s\u00fc\u00df \u2713", "back\\slash {}[],:"]
    rows = [render_row(odd | {"sku": f"ODD-{n}", "name": name}) for n, name in enumerate(names)]
    import_csv(owner_of(tenant_id), tenant_id, Scope.TENANT, header_line() + "".join(rows))
    box_id = enrol_box(tenant_id, branch)
    with platform_tx():
        box = Box.get(Box.box_id == box_id)
    sent = chunk_messages(box, 0)
    bodies = chunks(tenant_id, branch, 0)
    assert len(sent) == len(bodies) > 1
    for (topic, raw), body in zip(sent, bodies, strict=True):
        assert topic == topics.box_down(box_id, "catalog")
        msg = decode(raw, DownMessage)
        assert encode(msg) == raw
        assert msg.body == body
        assert msg.version == body["to_version"]
    got = {p["name"] for (_t, raw) in sent for p in decode(raw, DownMessage).body["products"]}
    assert set(names) <= got


@pytest.mark.req("FR-200")
def test_since_zero_returns_everything_in_ordered_chained_chunks(big_tenant):
    tenant_id, branch = big_tenant
    bodies = chunks(tenant_id, branch, 0)
    assert [len(b["products"]) for b in bodies] == [500, 500, 200]
    assert all(len(b["products"]) <= MAX_CHUNK_PRODUCTS for b in bodies)
    assert [b["last"] for b in bodies] == [False, False, True]
    assert bodies[0]["from_version"] == 0
    for prev, nxt in itertools.pairwise(bodies):
        assert nxt["from_version"] == prev["to_version"]
    with tenant_tx(tenant_id):
        assert bodies[-1]["to_version"] == current_version(tenant_id)
    versions = [p["version"] for b in bodies for p in b["products"]]
    assert versions == sorted(versions)
    assert len({p["sku"] for b in bodies for p in b["products"]}) == 1_200
    for b in bodies:
        assert all(b["from_version"] < p["version"] <= b["to_version"] for p in b["products"])
    first = bodies[0]["products"][0]
    assert set(first) == {
        "id", "sku", "name", "barcodes", "category", "tax_class", "unit", "price",
        "wholesale_tiers", "age_restriction", "deposit_product_id", "is_deposit", "active",
        "version",
    }  # fmt: skip


@pytest.mark.req("FR-200")
def test_since_version_returns_only_later_changes_with_branch_price_and_archive(big_tenant):
    tenant_id, branch = big_tenant
    with tenant_tx(tenant_id):
        held = current_version(tenant_id)
        ids = [p.id for p in Product.select().where(Product.tenant_id == tenant_id).limit(3)]
    owner = owner_of(tenant_id)
    catalog.set_branch_price(owner, tenant_id, Scope.TENANT, (ids[0], branch), "0.49")
    catalog.archive_product(owner, tenant_id, Scope.TENANT, ids[1])
    tiered = catalog.get_product(tenant_id, ids[2])
    body = {k: tiered[k] for k in ("sku", "name", "barcodes", "category", "tax_class", "price")}
    body["wholesale_tiers"] = [{"min_qty": "12", "price": "0.75"}]
    catalog.update_product(owner, tenant_id, Scope.TENANT, ids[2], ProductIn(**body))
    [delta] = chunks(tenant_id, branch, held)
    assert delta["from_version"] == held
    assert delta["to_version"] == held + 3
    assert delta["last"] is True
    got = {p["id"]: p for p in delta["products"]}
    assert list(got) == ids
    assert got[ids[0]]["price"] == "0.49"
    assert got[ids[1]]["active"] is False
    assert got[ids[2]]["wholesale_tiers"] == [{"min_qty": "12", "price": "0.75"}]
    other_branch = chunks(tenant_id, "b-elsewhere", held)[0]["products"][0]
    assert other_branch["price"] != "0.49"
    [empty] = chunks(tenant_id, branch, held + 3)
    assert empty["products"] == []
    assert empty["last"] is True


@pytest.mark.req("FR-200")
def test_head_is_the_catalog_version_and_demo_catalog_is_complete(app):
    with platform_tx():
        box = Box.get_by_id(demo_box_id())
    with tenant_tx(T):
        msgs = dict(downlink.messages_for_box(box))
        head = msgs[topics.box_down(box.box_id, "catalog")]
        assert head.body == {"head": True, "version": current_version(T)}
        assert head.version == current_version(T)
        config = msgs[topics.box_down(box.box_id, "config")].body
    kinds = {f["prefix"]: f["kind"] for f in config["barcode_formats"]}
    assert (kinds["21"], kinds["28"]) == ("price", "weight")
    products = {p["name"]: p for b in chunks(T, BRANCH, 0) for p in b["products"]}
    assert products["Bottle Deposit"]["is_deposit"] is True
    assert products["Cola 330ml"]["deposit_product_id"] == products["Bottle Deposit"]["id"]
    assert products["Red Wine 75cl"]["age_restriction"] == 18
    assert products["Bananas"]["unit"] == "weight"
    assert "2800004000000" in products["Bananas"]["barcodes"]


def _request(box_id: str, since: int, body_box: str | None = None) -> bytes:
    req = BoxRequest(
        box_id=body_box or box_id, kind="catalog", since_version=since, request_id=uuid.uuid4()
    )
    return encode(req)


def _quarantined(box_id: str) -> list[str]:
    with db.atomic():
        return sorted(q.reason for q in Quarantine.select().where(Quarantine.box_id == box_id))


@pytest.mark.req("FR-200", "NFR-005")
def test_forged_or_unknown_requests_are_quarantined_without_answer(app):
    box, other = enrol_box(T, BRANCH), enrol_box(T, BRANCH)
    assert handle_request(topics.box_request(box), _request(box, 0, body_box=other)) == []
    assert handle_request(topics.box_request(box), b"{not json") == []
    unknown = f"box-{uuid.uuid4().hex[:8]}"
    assert handle_request(topics.box_request(unknown), _request(unknown, 0)) == []
    assert _quarantined(box) == ["BOX_MISMATCH", "MALFORMED_MESSAGE"]
    assert _quarantined(unknown) == ["UNKNOWN_BOX"]
    replies = handle_request(topics.box_request(box), _request(box, 0))
    assert replies
    assert all(t == topics.box_down(box, "catalog") for t, _m in replies)


@pytest.mark.mqtt
@pytest.mark.req("FR-200", "NFR-005")
def test_request_over_mqtt_gets_chunks_on_the_box_down_topic(app, mqtt_addr):
    host, port = mqtt_addr
    box = enrol_box(T, BRANCH)
    worker = IngestWorker(host, port, client_id=f"cfpos-hub-ingest-test-{uuid.uuid4().hex[:8]}")
    got: queue.Queue[tuple[bool, bytes]] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    sub.on_message = lambda _c, _u, msg: got.put((msg.retain, msg.payload))
    worker.start()
    try:
        assert worker.ready.wait(10)
        sub.connect(host, port)
        sub.subscribe(topics.box_down(box, "catalog"), qos=1)
        sub.loop_start()
        time.sleep(0.3)
        forged = _request(box, 0, body_box=f"box-{uuid.uuid4().hex[:8]}")
        sub.publish(topics.box_request(box), forged, qos=1).wait_for_publish(5)
        sub.publish(topics.box_request(box), _request(box, 0), qos=1).wait_for_publish(5)
        retain, raw = got.get(timeout=10)
        msg = DownMessage.model_validate_json(raw)
        assert retain is False
        assert msg.kind == "catalog"
        assert msg.body["head"] is False
        assert msg.body["from_version"] == 0
        assert msg.body["last"] is True
        with tenant_tx(T):
            assert msg.version == msg.body["to_version"] == current_version(T)
        assert {p["sku"] for p in msg.body["products"]} >= {"GB-0001", "GB-0037"}
        assert _quarantined(box) == ["BOX_MISMATCH"]
    finally:
        sub.loop_stop()
        sub.disconnect()
        worker.stop()
