"""Fuzzing the ingest edge (finding 3): hostile envelopes and payloads of every event type.

Invariants, for every generated message: the handler never raises (a transient database
error aside); it either quarantines the whole message with a reason or answers an ack in
which every event of the batch with a usable id is exactly one of accepted / duplicate /
rejected; what the ack calls held is stored; nothing stored breaks a domain rule.

Budget: `CFPOS_FUZZ_EXAMPLES` examples per test (the normal suite: a few seconds; `just
chaos` runs the same tests with a large budget).
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.db import platform_tx, tenant_tx
from hub.sync.handling import handle_message
from hub.sync.models import IngestedEvent, Quarantine
from posdomain import topics
from posdomain.envelope import BatchAck, decode_batch
from posdomain.errors import PosError
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale
from scripts.testkit.crafted import B, T, sale_payload
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg]
EXAMPLES = int(os.environ.get("CFPOS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = datetime.now(UTC).isoformat()

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**70), 10**30]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "NaN",
            "-1",
            "1e9",
            "0.001",
            "-0.00",
            "Infinity",
            "9" * 40,
            "x" * 5000,
            "\u0000",
            "\ud800",
            "2026-01-01",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00-14:00",
            "USD",
            "voucher",
            "REDUCED",
            "each",
        ]
    ),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _refund(sale: dict[str, Any]) -> dict[str, Any]:
    return {
        "refund_id": str(uuid.uuid4()),
        "receipt_no": 90,
        "sale_id": sale["sale_id"],
        "original_receipt_no": sale["receipt_no"],
        "with_receipt": True,
        "cashier_id": "u-cashier",
        "approver_id": "u-manager",
        "reason_code": "DEFECTIVE",
        "currency": "EUR",
        "exponent": 2,
        "lines": [
            {
                "line_no": 1,
                "sale_line_no": 1,
                "product_id": "p-001",
                "qty": "1",
                "line_total": "-1.49",
                "tax_class": "REDUCED",
                "tax_rate": "0.05",
                "tax": "-0.07",
            }
        ],
        "tax_total": "-0.07",
        "total": "-1.49",
        "cash_rounding": "0.00",
        "payable": "-1.49",
        "tenders": [{"kind": "cash", "amount": "-1.49"}],
        "completed_at": NOW,
    }


def _templates() -> dict[str, dict[str, Any]]:
    sale = sale_payload(1)
    return {
        "sale.completed": sale,
        "refund.completed": _refund(sale),
        "sale.voided": {
            "sale_id": sale["sale_id"],
            "receipt_no": 1,
            "cashier_id": "u-cashier",
            "approver_id": "u-manager",
            "reason_code": "CASHIER_ERROR",
            "exponent": 2,
            "total": "2.98",
            "voided_at": NOW,
        },
        "shift.closed": {
            "kind": "Z",
            "z_no": 1,
            "shift_id": str(uuid.uuid4()),
            "till": "Till",
            "cashier_id": "u-cashier",
            "opened_at": NOW,
            "as_of": NOW,
            "net_total_minor": 298,
        },
        "stock.movement": {
            "movement_id": str(uuid.uuid4()),
            "product_id": "p-001",
            "qty": "1",
            "kind": "receipt",
            "occurred_at": NOW,
        },
        "audit.entry": {
            "chain": "box",
            "seq": 1,
            "ts": NOW,
            "actor": "staff:u",
            "action": "x",
            "target": "y",
            "severity": "INFO",
            "details": {},
            "prev_hash": "0" * 64,
            "hash": "1" * 64,
        },
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON-like value."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            out += _paths(child, (*prefix, n))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


@st.composite
def events(draw: st.DrawFn, box: str) -> list[dict[str, Any]]:
    """1-4 events: valid templates of every type, some fields replaced by hostile values."""
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(sorted(_templates())))
        ev = {
            "event_id": str(uuid.uuid4()),
            "box_id": box,
            "tenant_id": T,
            "branch_id": B,
            "seq": draw(st.one_of(st.integers(1, 6), HOSTILE)),
            "type": kind,
            "occurred_at": NOW,
            "correlation_id": uuid.uuid4().hex,
            "payload": copy.deepcopy(_templates()[kind]),
        }
        for path in draw(st.lists(st.sampled_from(_paths(ev)), max_size=3)):
            try:
                _set(ev, path, draw(HOSTILE))
            except (KeyError, IndexError, TypeError):  # an earlier mutation removed the parent
                continue
        out.append(ev)
    if out and draw(st.booleans()):
        out.append(copy.deepcopy(out[0]))  # the same event twice, or a reused id
    return out


def _raw(box: str, evs: list[dict[str, Any]]) -> bytes:
    body = {"v": 1, "batch_id": str(uuid.uuid4()), "box_id": box, "sent_at": NOW, "events": evs}
    try:
        return json.dumps(body).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return repr(body).encode("utf-8", "replace")


def _quarantine_count(box: str) -> int:
    with platform_tx():
        return Quarantine.select().where(Quarantine.box_id == box).count()


def _check_ack(box: str, evs: list[dict[str, Any]], ack: BatchAck) -> None:
    accepted = {str(e) for e in ack.accepted}
    duplicates = {str(e) for e in ack.duplicates}
    rejected = {str(r["event_id"]) for r in ack.rejected if r.get("event_id")}
    assert not accepted & duplicates
    assert not (accepted | duplicates) & rejected, "an event both held and refused"
    with tenant_tx(T):
        held = {
            e.event_id: e
            for e in IngestedEvent.select().where(
                IngestedEvent.box_id == box, IngestedEvent.outcome == "applied"
            )
        }
    assert accepted | duplicates <= set(held), "acked an event the hub does not hold"
    ctx = Context("EUR", 2, datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    for row in held.values():
        if row.type == "sale.completed":
            assert check_sale(SaleCompleted.model_validate(row.payload), ctx) == []
    answered = accepted | duplicates | rejected
    for ev in evs:
        ident = _uuid(ev.get("event_id"))
        if ident and type(ev.get("seq")) is int and 1 <= ev["seq"] <= 2**53:
            assert ident in answered, f"event {ident} got no answer"


def _uuid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


@pytest.mark.req("FR-303", "NFR-005")
@FUZZ
@given(data=st.data())
def test_fuzzed_batches_are_always_classified(app, data: st.DataObject) -> None:
    box = enrol_box(T, B)
    evs = data.draw(events(box))
    before = _quarantine_count(box)
    answer = handle_message(topics.box_events(box), _raw(box, evs))
    if answer is None:
        assert _quarantine_count(box) == before + 1, "refused whole without a quarantine row"
        return
    _check_ack(box, evs, BatchAck.model_validate_json(answer))


JSONISH = st.recursive(
    HOSTILE, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner)
)


@pytest.mark.req("FR-303", "NFR-005")
@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(raw=st.one_of(st.binary(max_size=2000), JSONISH.map(lambda v: json.dumps(v).encode())))
def test_decoding_never_fails_unclassified(raw: bytes) -> None:
    try:
        _head, incoming = decode_batch(raw)
    except PosError:
        return
    for ev in incoming:
        assert (ev.envelope is None) == (ev.error is not None)


@pytest.mark.req("FR-303", "NFR-005")
@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(data=st.data())
def test_sale_rules_never_crash_on_a_parsed_sale(data: st.DataObject) -> None:
    payload = sale_payload(1)
    for path in data.draw(st.lists(st.sampled_from(_paths(payload)), max_size=3)):
        try:
            _set(payload, path, data.draw(HOSTILE))
        except (KeyError, IndexError, TypeError):
            continue
    try:
        sale = SaleCompleted.model_validate(payload)
    except ValueError:  # pydantic's ValidationError: the schema refused it
        return
    ctx = Context("EUR", 2, datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    for violation in check_sale(sale, ctx):
        assert violation.reason
