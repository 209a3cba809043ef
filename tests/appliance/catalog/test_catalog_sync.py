"""Catalog catch-up on the box (FR-200, FR-303): versioned chunks, ordered, resumable."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from peewee import SqliteDatabase

from appliance.catalog import catch_up, down_messages, stage_rows
from appliance.catalog import products as box_products
from appliance.core.context import BoxContext
from appliance.sync.agent import AgentSettings, SyncAgent, offline_will
from appliance.sync.box_state import held_versions
from appliance.sync.transport import PahoTransport
from firmware_config.schema import BoxConfig, MqttSettings
from posdomain import topics
from posdomain.envelope import BoxRequest, DownMessage, decode, encode
from posdomain.errors import PosError
from scripts.testkit.waiting import wait_until
from tests.appliance.catalog_peer import CatalogPeer
from tests.appliance.factories import catalog_body, catalog_head, chunk, down, product

QUICK = AgentSettings(ack_timeout=1.0, idle_poll=0.05, heartbeat_every=0.3, catalog_timeout=0.6)


def _products(first: int, last: int) -> list[dict]:
    """Products p-v{n} at catalog versions first..last (valid EAN-13 barcodes)."""
    from posdomain.barcodes import check_digit

    out = []
    for n in range(first, last + 1):
        stem = f"50000000{n:04d}"
        out.append(product(f"p-v{n}", f"SKU{n}", f"Item {n}", [stem + check_digit(stem)],
                           f"{n}.00", version=n))  # fmt: skip
    return out


def _names(db: SqliteDatabase) -> set[str]:
    return {r[0] for r in db.execute_sql("SELECT id FROM products").fetchall()}


@pytest.mark.req("FR-200", "FR-303")
def test_chunks_apply_in_order_and_out_of_order_ones_are_ignored(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    assert held_versions()["catalog"] == 1
    assert down_messages.apply_down(ctx, chunk(3, 4, _products(4, 4))) is False  # gap: 1 < 3
    assert down_messages.apply_down(ctx, chunk(1, 3, _products(2, 3), last=False)) is True
    assert down_messages.apply_down(ctx, chunk(1, 3, _products(2, 3))) is False  # replay
    assert down_messages.apply_down(ctx, chunk(3, 4, _products(4, 4))) is True
    assert held_versions()["catalog"] == 4
    assert {"p-v2", "p-v3", "p-v4"} <= _names(box_db)


@pytest.mark.req("FR-200")
def test_products_upsert_by_id_and_barcodes_follow(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    moved = product("p-bread", "BRD1", "Rye Bread XL", ["4000000000013"], "2.80", version=2)
    assert down_messages.apply_down(ctx, chunk(1, 2, [moved]))
    row = box_db.execute_sql("SELECT name, price_minor FROM products WHERE id='p-bread'")
    assert row.fetchone() == ("Rye Bread XL", 280)
    owner = box_db.execute_sql(
        "SELECT product_id FROM barcodes WHERE gtin14 = '04000000000013'"
    ).fetchone()
    assert owner == ("p-bread",)  # the milk's barcode moved to the bread
    assert box_db.execute_sql("SELECT count(*) FROM products").fetchone() == (3,)


@pytest.mark.req("FR-200", "NFR-001")
def test_a_large_catalog_loads_through_the_chunk_path(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """5 000 products in ten chunks all land (how fast: `just bench`, scripts/bench_catalog_e2e;
    never a timed assertion here)."""
    ctx = BoxContext(box_config)
    items = _products(2, 5001)
    for n in range(0, len(items), 500):
        part = items[n : n + 500]
        start = 1 if n == 0 else part[0]["version"] - 1
        assert down_messages.apply_down(ctx, chunk(start, part[-1]["version"], part))
    ids = [r[0] for r in box_db.execute_sql("SELECT id FROM products").fetchall()]
    assert {p["id"] for p in items} <= set(ids)  # every one, beside the seeded three
    assert box_db.execute_sql("SELECT count(*) FROM barcodes").fetchone()[0] >= 5000


class _Agent:
    def __init__(self, config: BoxConfig) -> None:
        self.transport = PahoTransport(
            config.mqtt, f"cfpos-box-{config.box_id}", will=offline_will(config.box_id)
        )
        self.stop = threading.Event()
        self.agent = SyncAgent(BoxContext(config), self.transport, QUICK, self.stop)
        self.thread = threading.Thread(target=self.agent.run, daemon=True)
        self.transport.start()
        assert self.transport.wait_connected(5)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.transport.stop()


@pytest.fixture
def mqtt_box(
    box_config: BoxConfig, box_db: SqliteDatabase, mqtt_addr: tuple[str, int]
) -> Iterator[tuple[BoxConfig, Callable[[], _Agent]]]:
    """Box config on the real broker, an agent starter, and the retained head cleaned up."""
    config = box_config.model_copy(
        update={"mqtt": MqttSettings(host=mqtt_addr[0], port=mqtt_addr[1])}
    )
    agents: list[_Agent] = []

    def start() -> _Agent:
        agents.append(_Agent(config))
        return agents[-1]

    yield config, start
    for agent in agents:
        agent.close()
    _retain(mqtt_addr, topics.box_down(config.box_id, "catalog"), b"")


def _retain(addr: tuple[str, int], topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(*addr)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.mark.mqtt
@pytest.mark.req("FR-200", "FR-303")
def test_catch_up_over_the_real_broker_re_requests_after_lost_chunks(
    mqtt_box, mqtt_addr: tuple[str, int], box_db: SqliteDatabase
) -> None:
    config, start = mqtt_box
    peer = CatalogPeer(*mqtt_addr, config.box_id, _products(2, 7), truncate_first=True)
    try:
        _retain(mqtt_addr, topics.box_down(config.box_id, "catalog"), encode(catalog_head(7)))
        start()
        wait_until(lambda: held_versions().get("catalog") == 7)
        # first answer lost after chunk (1, 3]: the agent asked again from what it held
        assert [r.since_version for r in peer.requests] == [1, 3]
        assert {f"p-v{n}" for n in range(2, 8)} <= _names(box_db)
    finally:
        peer.stop()


@pytest.mark.mqtt
@pytest.mark.req("FR-200", "FR-303")
def test_catch_up_resumes_after_a_crash_from_the_last_committed_chunk(
    mqtt_box, mqtt_addr: tuple[str, int], box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    config, start = mqtt_box
    ctx = BoxContext(box_config)
    down_messages.apply_down(ctx, catalog_head(7))
    down_messages.apply_down(ctx, chunk(1, 3, _products(2, 3), last=False))  # then the box died
    assert catch_up.catalog_behind()
    peer = CatalogPeer(*mqtt_addr, config.box_id, _products(2, 7))
    try:
        start()
        wait_until(lambda: held_versions().get("catalog") == 7)
        assert [r.since_version for r in peer.requests] == [3]
        assert not catch_up.catalog_behind()
    finally:
        peer.stop()


@pytest.mark.req("FR-200", "FR-303")
def test_a_head_below_the_held_version_makes_the_box_reload_everything(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    assert down_messages.apply_down(ctx, catalog_head(5))
    down_messages.apply_down(ctx, chunk(1, 5, _products(2, 5)))
    assert down_messages.apply_down(ctx, catalog_head(3))  # hub restored from a backup
    assert catch_up.catalog_held() == 0
    assert catch_up.catalog_behind()
    assert down_messages.apply_down(ctx, chunk(0, 3, _products(1, 3)))
    assert catch_up.catalog_held() == 3


def _large(first: int, last: int) -> list[dict]:
    """Products p-L{n} at versions first..last (EAN-13s of their own, names with a word)."""
    from posdomain.barcodes import check_digit

    out = []
    for n in range(first, last + 1):
        stem = f"47{n:010d}"
        out.append(product(f"p-L{n}", f"L{n}", f"Large item {n} kiwi", [stem + check_digit(stem)],
                           "1.25", version=n))  # fmt: skip
    return out


def _active_large(db: SqliteDatabase) -> int:
    return int(db.execute_sql("SELECT count(*) FROM products WHERE id LIKE 'p-L%'").fetchone()[0])


@pytest.mark.req("FR-200", "FR-303")
def test_a_large_version_stays_staged_until_complete_then_applies_atomically(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """A 12 000-product version in windows of chunks: nothing of it is in force (scan, search,
    held version) until the chunk that reaches the head lands; then all of it at once, once."""
    ctx = BoxContext(box_config)
    held = catch_up.catalog_held()
    top = held + 12_000
    items = _large(held + 1, top)
    assert down_messages.apply_down(ctx, catalog_head(top))
    # a product already held is renamed in the same version (FTS must follow)
    items[5]["id"], items[5]["name"] = "p-milk", "Renamed milk kiwi"
    at = held
    for n in range(0, len(items) - 500, 500):
        part = items[n : n + 500]
        assert down_messages.apply_down(ctx, chunk(at, part[-1]["version"], part, last=False))
        at = part[-1]["version"]
        assert _active_large(box_db) == 0, "a partial download must never be in force"
        assert catch_up.catalog_held() == held
        assert catch_up.catalog_resume_from() == at
    assert box_products.search("kiwi") == []
    with pytest.raises(PosError):
        box_products.resolve_scan(items[0]["barcodes"][0], [])
    # a replayed (already staged) chunk is not staged twice
    assert down_messages.apply_down(ctx, chunk(held, items[499]["version"], items[:500])) is False
    assert down_messages.apply_down(ctx, chunk(at, top, items[-500:]))
    assert catch_up.catalog_held() == top
    assert not catch_up.catalog_behind()
    assert catch_up.staged_top() is None
    assert _active_large(box_db) == 12_000 - 1
    assert box_products.resolve_scan(items[-1]["barcodes"][0], []).product.id == items[-1]["id"]
    names = {p["name"] for p in box_products.search("Renamed milk")}
    assert names == {"Renamed milk kiwi"}
    assert box_products.search("Milk 1L") == []  # the old name left the index
    assert len(box_products.search("kiwi", limit=50)) == 50
    last = box_db.execute_sql(
        "SELECT details FROM audit_log WHERE action = 'down.catalog.applied' ORDER BY seq DESC"
    ).fetchone()
    assert json.loads(last[0]) == {"version": top, "previous": held, "products": 12_000}


@pytest.mark.req("FR-200", "FR-303")
def test_a_head_below_the_staged_top_drops_the_stage(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    ctx = BoxContext(box_config)
    held = catch_up.catalog_held()
    assert down_messages.apply_down(ctx, catalog_head(held + 10))
    part = _large(held + 1, held + 6)
    assert down_messages.apply_down(ctx, chunk(held, held + 6, part, last=False))
    assert catch_up.staged_top() == held + 6
    assert down_messages.apply_down(ctx, catalog_head(held + 4))  # hub restored a backup
    assert catch_up.staged_top() is None
    assert catch_up.catalog_resume_from() == held
    assert _active_large(box_db) == 0


@pytest.mark.req("FR-200")
def test_a_chunk_with_a_bad_price_names_the_product_and_applies_nothing(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """Prices parse under one cached field name; a bad one still names its product."""
    ctx = BoxContext(box_config)
    good = product("p-ok", "OK1", "Fine", [], "1.50", version=2)
    bad = product("p-bad", "BAD1", "Three decimals", [], "1.505", version=2)
    with pytest.raises(PosError) as caught:
        down_messages.apply_down(ctx, chunk(1, 2, [good, bad]))
    assert "price of BAD1" in caught.value.message
    assert "p-ok" not in _names(box_db)
    assert held_versions()["catalog"] == 1


@pytest.mark.req("FR-200")
@pytest.mark.parametrize(
    ("field", "value"), [("version", 2**63), ("age_restriction", 10**18), ("age_restriction", -1)]
)
def test_a_chunk_with_an_integer_sqlite_cannot_hold_is_refused_and_applies_nothing(
    box_config: BoxConfig, box_db: SqliteDatabase, field: str, value: int
) -> None:
    """A 19-digit version passed the model and raised OverflowError at the insert."""
    ctx = BoxContext(box_config)
    good = product("p-ok", "OK1", "Fine", [], "1.50", version=2)
    odd = product("p-odd", "ODD1", "Odd", [], "1.50", version=2)
    odd[field] = value
    with pytest.raises(PosError):
        down_messages.apply_down(ctx, chunk(1, 2, [good, odd]))
    assert "p-ok" not in _names(box_db)
    assert held_versions()["catalog"] == 1


class _Recording:
    """A transport that keeps what the agent publishes (the test hands it the messages)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Record one publish."""
        self.published.append((topic, payload))

    def subscribe(self, topic: str, handler: object) -> None:
        """Nothing arrives on its own."""

    def is_connected(self) -> bool:
        """Always connected."""
        return True

    def stop(self) -> None:
        """Nothing to stop."""

    def catalog_asks(self) -> list[int]:
        """since_version of every catalog request published so far."""
        asks = [decode(raw, BoxRequest) for _t, raw in self.published]
        return [a.since_version for a in asks if a.kind == "catalog"]


def _windowed(from_v: int, to_v: int, items: list[dict], last: bool, window_to: int) -> DownMessage:
    return down("catalog", to_v, catalog_body(from_v, to_v, items, last) | {"window_to": window_to})


@pytest.mark.req("FR-200", "FR-303")
def test_the_next_window_is_asked_for_as_the_first_chunk_of_one_lands(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """Issue 15 item 7: the hub builds window N+1 while the box stages window N; each window
    asked for once, a partial download still not in force, the head reached."""
    transport = _Recording()
    agent = SyncAgent(BoxContext(box_config), transport, QUICK, threading.Event())
    agent._down(catalog_head(6))
    assert agent.catch_up_catalog()
    assert transport.catalog_asks() == [1]
    agent._down(_windowed(1, 2, _products(2, 2), last=False, window_to=3))
    assert transport.catalog_asks() == [1, 3]  # asked ahead, window (1, 3] not yet staged
    agent._down(_windowed(2, 3, _products(3, 3), last=True, window_to=3))
    assert not agent.catch_up_catalog()  # window (3, 6] is on its way: not asked twice
    assert held_versions()["catalog"] == 1  # staged, not in force
    agent._down(_windowed(3, 5, _products(4, 5), last=False, window_to=6))
    assert transport.catalog_asks() == [1, 3]  # that window reaches the head: nothing ahead
    agent._down(_windowed(5, 6, _products(6, 6), last=True, window_to=6))
    assert held_versions()["catalog"] == 6
    assert {f"p-v{n}" for n in range(2, 7)} <= _names(box_db)
    assert not agent.catch_up_catalog()


@pytest.mark.req("FR-200", "FR-303")
def test_an_ask_ahead_lost_with_its_window_is_asked_again_after_the_timeout(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """A window asked ahead whose chunks never come is asked for again once no chunk came
    for catalog_timeout (the ask-ahead does not stand in for it), and the download ends."""
    transport = _Recording()
    agent = SyncAgent(BoxContext(box_config), transport, QUICK, threading.Event())
    agent._down(catalog_head(5))
    agent.catch_up_catalog()
    agent._down(_windowed(1, 2, _products(2, 2), last=False, window_to=3))
    agent._down(_windowed(2, 3, _products(3, 3), last=True, window_to=3))
    agent._catalog_asked_at = time.monotonic() - QUICK.catalog_timeout  # nothing came
    assert agent.catch_up_catalog()
    assert transport.catalog_asks() == [1, 3, 3]
    agent._down(_windowed(3, 4, _products(4, 4), last=False, window_to=5))
    agent._down(_windowed(4, 5, _products(5, 5), last=True, window_to=5))
    assert held_versions()["catalog"] == 5


@pytest.mark.req("FR-200")
def test_a_product_staged_again_by_a_later_chunk_keeps_only_its_later_barcodes(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    """A product changed again while a download runs comes in two chunks: its later row and
    barcodes replace the staged ones (the stage looks for such products before deleting)."""
    ctx = BoxContext(box_config)
    down_messages.apply_down(ctx, catalog_head(4))
    first = product("p-twice", "TW1", "Twice v2", ["5000000099917"], "1.00", version=2)
    other = product("p-other", "OT1", "Other", ["5000000099924"], "1.50", version=3)
    again = product("p-twice", "TW1", "Twice v4", ["5000000099931"], "1.10", version=4)
    assert down_messages.apply_down(ctx, chunk(1, 3, [first, other], last=False))
    assert down_messages.apply_down(ctx, chunk(3, 4, [again]))
    codes = dict(box_db.execute_sql("SELECT gtin14, product_id FROM barcodes").fetchall())
    assert codes.get("05000000099931") == "p-twice"
    assert "05000000099917" not in codes
    assert codes.get("05000000099924") == "p-other"
    row = box_db.execute_sql("SELECT name, price_minor FROM products WHERE id = 'p-twice'")
    assert row.fetchone() == ("Twice v4", 110)


@pytest.mark.req("FR-200")
def test_the_stages_gtin_shortcut_answers_as_validate_gtin() -> None:
    """`stage_rows.gtin14` equals `validate_gtin(code).gtin14` (or its refusal) on valid and
    broken codes of every length, with spaces, signs and non-ASCII digits."""
    import random

    from posdomain.barcodes import check_digit, validate_gtin

    rng = random.Random(15)
    codes = []
    for _ in range(20_000):
        body = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 14)))
        code = body + (check_digit(body) if rng.random() < 0.7 else rng.choice("0123456789"))
        mangle = rng.random()
        if mangle < 0.05:
            code = f" {code}"
        elif mangle < 0.08:
            code = code[:-1] + "\u0663"  # ARABIC-INDIC DIGIT THREE: isdigit, not ASCII
        elif mangle < 0.1:
            code = f"-{code[1:]}"
        codes.append(code)

    def answer(fn: Callable[[str], str], code: str) -> str:
        try:
            return fn(code)
        except PosError as err:
            return f"refused {err.reason}"

    for code in codes:
        assert answer(stage_rows.gtin14, code) == answer(lambda c: validate_gtin(c).gtin14, code), (
            code
        )
