"""The till's card directory, attach by card, search through the hub, enrolment (FR-400)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.app import create_app
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database, write_txn
from appliance.customers import search
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from posdomain.barcodes import check_digit
from posdomain.customer_fields import new_card
from tests.appliance.customers.conftest import ANNA, BERT, CARDS, cards_chunk, entry, go_online
from tests.appliance.factories import down, make_config
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import outbox_events

pytestmark = pytest.mark.req("FR-400")


def cards(db: SqliteDatabase) -> dict[str, tuple]:
    rows = db.execute_sql(
        "SELECT customer_id, card, display_name, balance, version, source FROM loyalty_cards"
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_directory_applies_chunks_in_order_and_keeps_no_phone_or_email(
    loyal: BoxContext, box_db: SqliteDatabase
) -> None:
    columns = {r[1] for r in box_db.execute_sql("PRAGMA table_info(loyalty_cards)").fetchall()}
    assert not columns & {"phone", "email", "e_mail"}
    assert cards(box_db)[ANNA] == (CARDS[ANNA], "Anna K.", 500, 1, "hub")
    gap = cards_chunk(3, 5, [entry(ANNA, 5, 1)])  # the box holds 2: a gap, refused
    assert not down_messages.apply_down(loyal, gap)
    leak = entry(ANNA, 3, 480, phone="+32470000000", email="a@example.org")
    moved = entry(BERT, 4, 50, card=CARDS[ANNA])  # Anna's card handed to Bert
    assert down_messages.apply_down(loyal, cards_chunk(2, 4, [leak, moved]))
    assert not down_messages.apply_down(loyal, cards_chunk(2, 4, [leak, moved]))  # replay
    held = cards(box_db)
    assert held[ANNA][:1] == (None,)
    assert held[BERT][0] == CARDS[ANNA]
    dump = json.dumps(box_db.execute_sql("SELECT * FROM loyalty_cards").fetchall())
    assert "+32470000000" not in dump
    assert "example.org" not in dump
    head = down("cards", 9, {"head": True, "version": 9})
    assert down_messages.apply_down(loyal, head)
    status = box_db.execute_sql("SELECT versions FROM box_state").fetchone()[0]
    assert json.loads(status)["cards"] == 4


@pytest.mark.usefixtures("loyal")
def test_attach_by_card_works_offline_and_bad_cards_say_why(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    resp = cashier.post("/api/v1/basket/customer/card", json={"card": CARDS[ANNA]})
    assert resp.status_code == 200, resp.get_json()
    panel = resp.get_json()
    assert panel["customer"]["name"] == "Anna K."
    assert panel["customer"]["card_tail"] == CARDS[ANNA][-4:]
    assert panel["customer"]["balance"] == 500
    assert panel["offline"] is True
    bad = CARDS[ANNA][:-1] + str((int(CARDS[ANNA][-1]) + 1) % 10)
    unknown = new_card()
    for card, status, reason in [
        (bad, 400, "INVALID_CARD"),
        (unknown, 404, "UNKNOWN_CARD"),
        ("29abc", 400, "INVALID_CARD"),
    ]:
        resp = cashier.post("/api/v1/basket/customer/card", json={"card": card})
        assert (resp.status_code, resp.get_json()["error"]["reason"]) == (status, reason)
    assert cashier.get("/api/v1/basket/loyalty").get_json()["customer"]["name"] == "Anna K."
    assert cashier.delete("/api/v1/basket/customer").get_json()["customer"] is None


@pytest.mark.usefixtures("loyal")
def test_search_needs_the_hub_offline_and_asks_it_online(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    resp = cashier.post("/api/v1/customers/search", json={"query": "Anna"})
    assert (resp.status_code, resp.get_json()["error"]["reason"]) == (503, "HUB_REQUIRED")
    assert box_db.execute_sql("SELECT count(*) FROM customer_searches").fetchone()[0] == 0
    go_online(box_db)

    def hub_side() -> None:  # what the sync agent does with the hub's BoxReply
        for _ in range(100):
            found = search.pending()
            if found:
                with write_txn():
                    search.mark_sent(found[0].request_id)
                    search.store_reply(
                        found[0].request_id,
                        {"query": "Anna", "total": 1, "items": [entry(ANNA, 1, 500)]},
                    )
                return
            time.sleep(0.05)

    helper = threading.Thread(target=hub_side)
    helper.start()
    resp = cashier.post("/api/v1/customers/search", json={"query": "Anna"})
    helper.join()
    assert resp.status_code == 200, resp.get_json()
    assert [i["display_name"] for i in resp.get_json()["items"]] == ["Anna K."]
    add(cashier, MILK)
    attached = cashier.post("/api/v1/basket/customer/attach", json={"customer_id": ANNA})
    assert attached.get_json()["customer"]["card_tail"] == CARDS[ANNA][-4:]
    nobody = cashier.post("/api/v1/basket/customer/attach", json={"customer_id": "c-nobody"})
    assert nobody.get_json()["error"]["reason"] == "UNKNOWN_CUSTOMER"
    short = cashier.post("/api/v1/customers/search", json={"query": "A"})
    assert short.get_json()["error"]["reason"] == "VALIDATION_FAILED"


@pytest.mark.req("FR-400", "FR-303")
@pytest.mark.usefixtures("loyal")
def test_enrol_offline_queues_customer_enrolled_with_a_box_made_id(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    card = new_card()
    resp = cashier.post("/api/v1/customers", json={"card": card, "display_name": " Nora  N. "})
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()["customer"]
    assert uuid.UUID(made["customer_id"]).version == 4
    assert resp.get_json()["panel"]["customer"]["name"] == "Nora N."
    [event] = outbox_events(box_db, "customer.enrolled")
    assert event.payload == {
        "customer_id": made["customer_id"],
        "card": card,
        "display_name": "Nora N.",
        "enrolled_at": event.payload["enrolled_at"],
        "enrolled_by": "s-cash",
        "consent_marketing": False,
        "consent_email_receipts": False,
    }
    assert cards(box_db)[made["customer_id"]] == (card, "Nora N.", 0, 0, "box")
    cashier.delete("/api/v1/basket/customer")
    again = cashier.post("/api/v1/basket/customer/card", json={"card": card})
    assert again.get_json()["customer"]["customer_id"] == made["customer_id"]
    for body, reason in [
        ({"card": card, "display_name": "Twice"}, "CARD_TAKEN"),
        ({"card": CARDS[ANNA], "display_name": "Anna again"}, "CARD_TAKEN"),
        ({"card": "1234567890123", "display_name": "Bad"}, "INVALID_CARD"),
        ({"card": new_card(), "display_name": "x\u0000y"}, "INVALID_TEXT"),
        ({"card": new_card(), "display_name": "x" * 61}, "VALIDATION_FAILED"),
    ]:
        resp = cashier.post("/api/v1/customers", json=body)
        assert resp.get_json()["error"]["reason"] == reason, body
    assert len(outbox_events(box_db, "customer.enrolled")) == 1
    assert check_digit(card[:-1]) == card[-1]


def test_the_customer_dialogs_speak_german_on_a_german_till(tmp_path) -> None:
    config = make_config(tmp_path, locale="de")
    db = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
    page = create_app(config).test_client().get("/").get_data(as_text=True)
    for german in (
        "Kunde (F2)",
        "Punkte einlösen (F3)",
        "Kundenkarte: scannen",
        "Einlösen (Enter)",
    ):
        assert german in page
    assert "Redeem points" not in page
    assert "HUB_REQUIRED" in page  # the reason texts travel with the page, in German
    assert "braucht die Zentrale" in page
