"""Bank deposits on the hub (FR-303 ingest, FR-600 REP-T-05, FR-100 tenant isolation): the
till's `drawer.bank_deposit` events are checked at ingest, stored once, refused with a stable
reason (quarantined, never acked as held) when forged or nonsense, and REP-T-05 sets them
against the cash the day took in, to the cent."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.core.db import tenant_tx
from hub.governance.models import AuditLog
from hub.sales.models import BankDeposit
from hub.sync.models import Quarantine
from scripts.testkit.crafted import T
from tests.hub.conftest import enrol_box, login
from tests.hub.ingest_helpers import acked_ids, envelope, rejected, send
from tests.hub.report_helpers import (
    at_local,
    item,
    new_products,
    priced_sale,
    refund_of,
    zoned_branch,
)
from tests.hub.test_reports_access import as_role

pytestmark = [pytest.mark.pg]
ZONE = "Europe/Berlin"
OTHER, OTHER_B = "t-harborfoods", "b-harbor-main"
CENT = Decimal("0.01")


def deposit(at: datetime, amount: str = "120.50", **over: Any) -> dict[str, Any]:
    """A drawer.bank_deposit payload as the till writes it."""
    body = {
        "deposit_id": str(uuid.uuid4()),
        "amount": amount,
        "currency": "EUR",
        "exponent": 2,
        "slip_no": "BAG-0042",
        "business_day": at_day(at),
        "cashier_id": "u-rep-cashier",
        "approver_id": "u-manager",
        "reason_code": "BANK_DEPOSIT",
        "shift_id": None,
        "note": "",
        "deposited_at": at.isoformat(),
    }
    body.update(over)
    return body


def at_day(at: datetime) -> str:
    """The Berlin business day of an instant."""
    return at.astimezone(ZoneInfo(ZONE)).date().isoformat()


def stored(box: str) -> list[BankDeposit]:
    with tenant_tx(T):
        return list(BankDeposit.select().where(BankDeposit.box_id == box))


@pytest.mark.req("FR-303", "FR-100", "FR-600")
def test_deposits_are_checked_stored_once_and_forgeries_refused(app):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    now = datetime.now(UTC) - timedelta(minutes=5)
    good = envelope(box, 1, deposit(now), "drawer.bank_deposit", branch_id=branch)
    ack = send(box, [good])
    assert rejected(ack) == {}
    assert good["event_id"] in acked_ids(ack)
    (row,) = stored(box)
    assert (row.amount_minor, row.slip_no, row.branch_id) == (12050, "BAG-0042", branch)
    # the same event again (a retry after a lost ack): a duplicate, still one row
    again = send(box, [good])
    assert good["event_id"] in {str(e) for e in again.duplicates}
    assert len(stored(box)) == 1
    bad_payloads = {
        2: (deposit(now, "0.00"), "INVALID_MONEY"),
        3: (deposit(now, "-12.00"), "INVALID_MONEY"),
        4: (deposit(now, "1.005"), "INVALID_MONEY"),
        5: (deposit(now, "NaN"), "INVALID_MONEY"),
        6: (deposit(now, "99999999999999.00"), "INVALID_MONEY"),
        7: (deposit(now, currency="USD"), "CURRENCY_MISMATCH"),
        8: (deposit(now, business_day="2020-01-01"), "DEPOSIT_DAY_OUT_OF_RANGE"),
        9: (deposit(now, business_day="2026-02-30"), "DEPOSIT_DAY_OUT_OF_RANGE"),
        10: (deposit(now, slip_no=""), "MALFORMED_MESSAGE"),
        11: (deposit(now, amount=12.5), "MALFORMED_MESSAGE"),  # a float is not money
        12: (deposit(now, deposited_at="2001-01-01T00:00:00+00:00", business_day="2001-01-01"),
             "TIMESTAMP_OUT_OF_RANGE"),
        13: ({**deposit(now), "deposit_id": good["payload"]["deposit_id"]},
             "DOCUMENT_ID_CONFLICT"),  # a new event naming a deposit the hub holds
    }  # fmt: skip
    events = [
        envelope(box, seq, body, "drawer.bank_deposit", branch_id=branch)
        for seq, (body, _) in bad_payloads.items()
    ]
    forged_tenant = envelope(box, 14, deposit(now), "drawer.bank_deposit",
                             tenant_id="t-harborfoods", branch_id=branch)  # fmt: skip
    forged_branch = envelope(box, 15, deposit(now), "drawer.bank_deposit", branch_id="b-other")
    ack = send(box, [*events, forged_tenant, forged_branch])
    want = {seq: reason for seq, (_, reason) in bad_payloads.items()}
    assert rejected(ack) == {**want, 14: "TENANT_MISMATCH", 15: "BRANCH_MISMATCH"}
    refused_ids = {e["event_id"] for e in [*events, forged_tenant, forged_branch]}
    assert not refused_ids & acked_ids(ack)  # never acked as delivered
    assert len(stored(box)) == 1
    with tenant_tx(T):
        held = Quarantine.select().where(Quarantine.box_id == box).count()
    assert held == len(refused_ids)


def z_closed(shift_id: str, at: datetime, difference: str, paid_outs: str) -> dict[str, Any]:
    """A Z report of the day with its counted cash difference and paid-outs."""
    return {
        "shift_id": shift_id, "z_no": 1, "till": "Till 1", "cashier_id": "u-rep-cashier",
        "opened_at": (at - timedelta(hours=8)).isoformat(), "as_of": at.isoformat(),
        "net_total_minor": 0,
        "cash": {"paid_outs": paid_outs},
        "tenders": [{"kind": "cash", "expected": "0.00", "counted": "0.00",
                     "difference": difference}],
    }  # fmt: skip


@pytest.mark.req("FR-600", "FR-303")
def test_rep_t_05_sets_deposits_against_the_days_cash_to_the_cent(app, client):
    branch = zoned_branch(ZONE)
    box = enrol_box(T, branch)
    prods = new_products()
    day = "2026-06-18"
    at = at_local(ZONE, f"{day}T09:00:00")
    sales = [
        priced_sale(1, [item(prods[0], 3), item(prods[1], 1)], at, cash=True),
        priced_sale(2, [item(prods[2], 2)], at + timedelta(minutes=20), cash=True),
        priced_sale(3, [item(prods[1], 2)], at + timedelta(minutes=40), cash=False),  # card
    ]
    back = refund_of(sales[0], 1, at + timedelta(hours=1))  # paid out in cash
    events = [envelope(box, i + 1, s, branch_id=branch) for i, s in enumerate(sales)]
    events.append(envelope(box, 4, back, "refund.completed", branch_id=branch))
    close = at_local(ZONE, f"{day}T20:00:00")
    events.append(envelope(box, 5, z_closed(str(uuid.uuid4()), close, "-0.35", "3.00"),
                           "shift.closed", branch_id=branch))  # fmt: skip
    dep1 = deposit(at + timedelta(hours=4), "10.00", slip_no="BAG-1")
    dep2 = deposit(close + timedelta(minutes=10), "7.77", slip_no="BAG-2")
    events += [envelope(box, 6, dep1, "drawer.bank_deposit", branch_id=branch),
               envelope(box, 7, dep2, "drawer.bank_deposit", branch_id=branch)]  # fmt: skip
    ack = send(box, events)
    assert rejected(ack) == {}
    # independent: cash taken in = Σ cash tendered - change of the cash sales + the refund's
    cash_in = sum(Decimal(s["tenders"][0]["amount"]) - Decimal(s["change"]) for s in sales[:2])
    cash_in += Decimal(back["tenders"][0]["amount"])
    to_bank = cash_in - Decimal("3.00") + Decimal("-0.35")
    deposited = Decimal("17.77")
    login(client, "owner")
    f = {"branches": branch, "date_from": day, "date_to": day}
    body = client.get("/api/v1/reports/REP-T-05", query_string=f).get_json()
    (row,) = body["items"]
    assert row["cash_tenders"] == str(cash_in.quantize(CENT))
    assert (row["paid_outs"], row["over_short"]) == ("3.00", "-0.35")
    assert row["deposits"] == str(deposited)
    assert row["deposit_over_short"] == str((deposited - to_bank).quantize(CENT))
    assert body["totals"]["deposits"] == str(deposited)
    assert "not recorded" not in str(body.get("note", ""))
    csv = client.get("/api/v1/reports/REP-T-05/csv", query_string=f).get_data(as_text=True)
    assert str(deposited) in csv
    assert str((deposited - to_bank).quantize(CENT)) in csv
    pdf = client.get("/api/v1/reports/REP-T-05/pdf", query_string=f)
    assert pdf.status_code == 200
    assert pdf.data[:4] == b"%PDF"
    page = client.get("/reports/REP-T-05", query_string=f)
    assert page.status_code == 200
    assert "17.77" in page.get_data(as_text=True)
    # a deposit of a day without a sale still gets its row
    lone = deposit(at + timedelta(days=1), "5.00", slip_no="BAG-3")
    assert rejected(send(box, [envelope(box, 8, lone, "drawer.bank_deposit",
                                        branch_id=branch)])) == {}  # fmt: skip
    nxt = {**f, "date_from": "2026-06-19", "date_to": "2026-06-19"}
    (only,) = client.get("/api/v1/reports/REP-T-05", query_string=nxt).get_json()["items"]
    assert (only["deposits"], only["deposit_over_short"]) == ("5.00", "5.00")


def _list(client: Any, **query: Any) -> Any:
    return client.get("/api/v1/reports/bank-deposits", query_string=query)


def _denied(target: str) -> int:
    with tenant_tx(T):
        return int(
            AuditLog.select()
            .where(AuditLog.action == "access.denied", AuditLog.target.startswith(target))
            .count()
        )


@pytest.fixture
def booked(app: Any) -> dict[str, Any]:
    """Deposits of two boxes of a Berlin branch on two days, one of another branch of the
    tenant, and one of another tenant's branch (harbor foods)."""
    branch, other = zoned_branch(ZONE), zoned_branch(ZONE)
    box1, box2, box3 = enrol_box(T, branch), enrol_box(T, branch), enrol_box(T, other)
    harbor_box = enrol_box(OTHER, OTHER_B)
    now = datetime.now(UTC) - timedelta(minutes=5)
    yesterday = now - timedelta(days=1)
    # booked on the branch's today and yesterday as of now (a till may book a deposit made
    # just before local midnight on the day before: the supervisor's "today" is the day now)
    today = at_day(datetime.now(UTC))
    before = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    plan = [
        (box1, branch, deposit(yesterday, "10.00", slip_no="S-1", business_day=before)),
        (box1, branch, deposit(now, "20.05", slip_no="S-2", business_day=today)),
        (box2, branch, deposit(now, "3.10", slip_no="S-3", cashier_id="u-cashier",
                               business_day=today)),
        (box2, branch, deposit(yesterday, "400.00", slip_no="S-4", shift_id="sh-1",
                               business_day=before)),
        (box3, other, deposit(now, "7.00", slip_no="S-5", business_day=today)),
    ]  # fmt: skip
    seqs: dict[str, int] = {}
    for box, at, body in plan:
        seqs[box] = seqs.get(box, 0) + 1
        ack = send(box, [envelope(box, seqs[box], body, "drawer.bank_deposit", branch_id=at)])
        assert rejected(ack) == {}
    harbor = deposit(now, "999.00", slip_no="H-1", cashier_id="u-harbor-owner", business_day=today)
    ack = send(harbor_box, [envelope(harbor_box, 1, harbor, "drawer.bank_deposit",
                                     tenant_id=OTHER, branch_id=OTHER_B)])  # fmt: skip
    assert rejected(ack) == {}
    return {
        "branch": branch, "other": other, "boxes": (box1, box2, box3),
        "harbor_box": harbor_box, "days": (before, today),
        "plan": [body for _, _, body in plan], "harbor": harbor,
    }  # fmt: skip


@pytest.mark.req("FR-600", "FR-303", "FR-100")
def test_bank_deposits_list_filters_sorts_and_pages_on_the_server(booked, client):
    login(client, "owner")
    branch, other = booked["branch"], booked["other"]
    box1, box2, _box3 = booked["boxes"]
    first, last = booked["days"]
    both = {"branches": f"{branch},{other}", "date_from": first, "date_to": last}
    body = _list(client, **both, sort="amount").get_json()
    assert [d["slip_no"] for d in body["items"]] == ["S-3", "S-5", "S-1", "S-2", "S-4"]
    assert body["totals"] == {"count": 5, "amount": "440.15", "amount_minor": 44015}
    assert (body["total"], body["pages"], body["sort"]) == (5, 1, "amount")
    row = body["items"][-1]
    sent = booked["plan"][3]
    assert row == {
        "deposit_id": sent["deposit_id"], "branch_id": branch, "branch": f"Store {ZONE}",
        "box_id": box2, "box": row["box"], "business_day": first, "amount": "400.00",
        "amount_minor": 40000, "slip_no": "S-4", "cashier_id": "u-rep-cashier",
        "cashier": row["cashier"], "approver_id": "u-manager", "approver": row["approver"],
        "reason_code": "BANK_DEPOSIT", "shift_id": "sh-1", "note": "",
        "deposited_at": datetime.fromisoformat(sent["deposited_at"]).isoformat(),
        "received_at": row["received_at"],
    }  # fmt: skip
    assert row["approver"] != "u-manager"  # a name, not the id
    # descending, and paged: page 2 of 2-row pages, the last page, past the last page
    desc = _list(client, **both, sort="-amount", page_size=2, page=2).get_json()
    assert [d["slip_no"] for d in desc["items"]] == ["S-1", "S-5"]
    assert (desc["total"], desc["pages"], desc["totals"]["count"]) == (5, 3, 5)
    tail = _list(client, **both, sort="-amount", page_size=2, page=3).get_json()
    assert [d["slip_no"] for d in tail["items"]] == ["S-3"]
    past = _list(client, **both, page_size=2, page=4)
    assert (past.status_code, past.get_json()["error"]["reason"]) == (400, "REPORT_BAD_PAGE")
    for sort in ("nope", "-", "total", "-tenant_id"):
        bad = _list(client, **both, sort=sort)
        assert (bad.status_code, bad.get_json()["error"]["reason"]) == (400, "REPORT_BAD_SORT")
    # the default order: newest first; ties (same instant) by deposit id
    newest = _list(client, **both).get_json()
    stamps = [d["deposited_at"] for d in newest["items"]]
    assert stamps == sorted(stamps, reverse=True)
    # filters: one day, one branch, a box, a cashier
    day = _list(client, branches=branch, date_from=last, date_to=last, sort="slip_no")
    assert [d["slip_no"] for d in day.get_json()["items"]] == ["S-2", "S-3"]
    one = _list(client, branch_id=other, date_from=first, date_to=last).get_json()
    assert [d["slip_no"] for d in one["items"]] == ["S-5"]
    boxed = _list(client, **both, box_id=box1, sort="slip_no").get_json()
    assert [d["slip_no"] for d in boxed["items"]] == ["S-1", "S-2"]
    assert boxed["totals"]["amount"] == "30.05"
    by_cashier = _list(client, **both, cashier_id="u-cashier").get_json()
    assert [d["slip_no"] for d in by_cashier["items"]] == ["S-3"]
    # every branch of the tenant (none named): the other tenant's deposit never shows
    every = _list(client, date_from=first, date_to=last, page_size=200).get_json()
    slips = {d["slip_no"] for d in every["items"]}
    assert {"S-1", "S-2", "S-3", "S-4", "S-5"} <= slips
    assert "H-1" not in slips
    # bad ranges and filters: reason codes, never a 500
    for query, code in (
        ({"date_from": last, "date_to": first}, "REPORT_RANGE_INVERTED"),
        ({"date_from": first}, "REPORT_RANGE_UNBOUNDED"),
        ({"date_from": "2026-02-30", "date_to": last}, "REPORT_BAD_FILTER"),
        ({"date_from": "2020-01-01", "date_to": last}, "REPORT_RANGE_TOO_LONG"),
        ({"branches": other, "box_id": box1, "date_from": first, "date_to": last},
         "REPORT_BAD_FILTER"),  # a box outside the branches asked for
    ):  # fmt: skip
        bad = _list(client, **query)
        assert (bad.status_code, bad.get_json()["error"]["reason"]) == (400, code), query
    for query in ({"page": 0}, {"page_size": 201}, {"page": "x"}):
        assert _list(client, **query).status_code == 400


@pytest.mark.req("FR-100", "FR-600", "NFR-005")
def test_bank_deposits_list_refuses_another_tenants_ids_and_follows_the_matrix(app, booked):
    branch, other = booked["branch"], booked["other"]
    first, last = booked["days"]
    span = {"date_from": first, "date_to": last}
    owner = app.test_client()
    login(owner, "owner")
    # another tenant's branch and box: 403 like a made-up one, same body, each audited
    for name, foreign in (("branch_id", OTHER_B), ("branches", OTHER_B),
                          ("box_id", booked["harbor_box"])):  # fmt: skip
        before = _denied("/api/v1/reports/bank-deposits")
        a = _list(owner, **span, **{name: foreign})
        b = _list(owner, **span, **{name: "zz-made-up"})
        assert (a.status_code, a.get_json()["error"]["reason"]) == (403, "FORBIDDEN_BRANCH")
        assert (a.status_code, a.get_data()) == (b.status_code, b.get_data())
        assert _denied("/api/v1/reports/bank-deposits") == before + 2
    # another tenant's cashier: nothing of theirs, like a made-up cashier
    a = _list(owner, **span, cashier_id="u-harbor-owner").get_json()
    b = _list(owner, **span, cashier_id="zz-made-up").get_json()
    assert a["items"] == b["items"] == []
    assert a["totals"] == b["totals"] == {"count": 0, "amount": "0.00", "amount_minor": 0}
    # the other tenant's owner sees its own deposit only
    harbor = app.test_client()
    login(harbor, "harbor-owner")
    theirs = _list(harbor, **span, page_size=200).get_json()["items"]
    assert booked["harbor"]["deposit_id"] in {d["deposit_id"] for d in theirs}
    assert {d["branch_id"] for d in theirs} == {OTHER_B}
    mine = _list(harbor, **span, branches=branch)
    assert (mine.status_code, mine.get_json()["error"]["reason"]) == (403, "FORBIDDEN_BRANCH")
    # roles as REP-T-05: auditor T; manager B; supervisor B today only; cashier/tech none
    auditor = as_role(app, "AUDITOR", [])
    assert len(_list(auditor, **span, branches=f"{branch},{other}").get_json()["items"]) == 5
    manager = as_role(app, "BRANCH_MANAGER", [branch])
    managed = _list(manager, **span, page_size=200).get_json()
    assert {d["branch_id"] for d in managed["items"]} == {branch}
    assert _list(manager, **span, branches=other).status_code == 403
    supervisor = as_role(app, "SUPERVISOR", [branch])
    today = _list(supervisor, sort="slip_no").get_json()  # no dates: the branch's today
    assert [d["slip_no"] for d in today["items"]] == ["S-2", "S-3"]
    before = _denied("/api/v1/reports/bank-deposits")
    week = _list(supervisor, **span)
    assert (week.status_code, week.get_json()["error"]["reason"]) == (403, "REPORT_TODAY_ONLY")
    assert _denied("/api/v1/reports/bank-deposits") == before + 1
    for role in ("CASHIER", "FIELD_TECH", "INVENTORY_CLERK"):
        denied = _list(as_role(app, role, [branch]), **span)
        assert (denied.status_code, denied.get_json()["error"]["reason"]) == (
            403,
            "FORBIDDEN_ROLE",
        ), role
    assert _list(app.test_client(), **span).status_code == 401
