"""Hostile box traffic as an outside tester crafts it (issue "never trust a box"): sales that
break a domain rule, poison events, whole messages the hub must refuse, and forgeries of a
real box's held events. Each comes with the reason code the hub must answer with."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scripts.testkit.crafted import Item, sale_payload

Payload = dict[str, Any]


@dataclass(frozen=True)
class Hostile:
    """A crafted payload and the reason the hub must refuse it with."""

    name: str
    payload: Payload
    reason: str


def envelope(
    box: str, tenant: str, branch: str, seq: Any, payload: Payload, kind: str = "sale.completed"
) -> dict[str, Any]:
    """One event envelope (dict) of a box."""
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "box_id": box,
        "tenant_id": tenant,
        "branch_id": branch,
        "seq": seq,
        "type": kind,
        "occurred_at": now,
        "correlation_id": uuid.uuid4().hex,
        "payload": payload,
    }


def batch_bytes(box: str, events: list[Any], batch_id: str | None = None) -> bytes:
    """Wire bytes of a batch around raw events (no schema check on our side)."""
    body = {
        "v": 1,
        "batch_id": batch_id or str(uuid.uuid4()),
        "box_id": box,
        "sent_at": datetime.now(UTC).isoformat(),
        "events": events,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _mutated(name: str, reason: str, change: Callable[[Payload], None]) -> Hostile:
    payload = copy.deepcopy(sale_payload(1))
    change(payload)
    return Hostile(name, payload, reason)


def _negative_qty(p: Payload) -> None:
    p["lines"][0].update(qty="-2", extended="-2.98", line_total="-2.98", tax="-0.14")
    p.update(
        subtotal="-2.98",
        total="-2.98",
        tax_total="-0.14",
        payable="-2.98",
        tax_breakdown=[],
        tenders=[{"kind": "cash", "amount": "0.01"}],
        change="2.99",
    )


def _inflated(p: Payload) -> None:
    p.update(
        total="1000000.00",
        payable="1000000.00",
        change="0.00",
        tenders=[{"kind": "cash", "amount": "1000000.00"}],
    )


def _each_fraction(p: Payload) -> None:
    milk = Item(
        product_id="p-003",
        sku="GB-0003",
        name="Whole Milk 1L",
        qty="2.5",
        unit="each",
        unit_price="1.19",
    )
    fresh = sale_payload(1, items=[milk])
    p.update({k: v for k, v in fresh.items() if k not in ("sale_id", "receipt_no")})


def line(**fields: Any) -> Callable[[Payload], None]:
    """A mutation setting fields of the first line."""
    return lambda p: p["lines"][0].update(fields)


def top(**fields: Any) -> Callable[[Payload], None]:
    """A mutation setting top-level payload fields."""
    return lambda p: p.update(fields)


def rule_breakers() -> list[Hostile]:
    """Sales that do not add up or lie about what was sold (fresh sale ids each call)."""
    return [
        _mutated("negative total", "TOTALS_MISMATCH", top(total="-2.98", payable="-2.98")),
        _mutated("1 000 000.00 over 2.98 of lines", "TOTALS_MISMATCH", _inflated),
        # a returned line with no sale beside it is never a sale (issue 14: UNMATCHED_RETURN)
        _mutated("negative quantity", "UNMATCHED_RETURN", _negative_qty),
        _mutated("quantity 0", "INVALID_QUANTITY", line(qty="0")),
        _mutated("negative receipt number", "MALFORMED_MESSAGE", top(receipt_no=-5)),
        _mutated("foreign currency", "CURRENCY_MISMATCH", top(currency="USD")),
        _mutated(
            "negative tender",
            "INVALID_MONEY",
            top(tenders=[{"kind": "cash", "amount": "-5.00"}], change="-7.98"),
        ),
        _mutated(
            "negative change",
            "INVALID_MONEY",
            top(tenders=[{"kind": "cash", "amount": "1.00"}], change="-1.98"),
        ),
        _mutated("tax not the rate's", "TAX_MISMATCH", line(tax="0.50")),
        _mutated(
            "year 9999", "TIMESTAMP_OUT_OF_RANGE", top(completed_at="9999-12-31T23:59:59+00:00")
        ),
        _mutated("100 000-character name", "MALFORMED_MESSAGE", line(name="x" * 100_000)),
        _mutated(
            "tenders short",
            "TENDER_MISMATCH",
            top(tenders=[{"kind": "cash", "amount": "1.00"}], change="0.00"),
        ),
        _mutated("qty x price is not the line", "LINE_ARITHMETIC", line(unit_price="0.01")),
        _mutated("fractional qty of an 'each' product", "INVALID_QUANTITY", _each_fraction),
        _mutated(
            "unknown tender", "UNKNOWN_TENDER", top(tenders=[{"kind": "voucher", "amount": "5.00"}])
        ),
        _mutated(
            "card number as reference",
            "VALIDATION_FAILED",
            top(
                tenders=[{"kind": "card", "amount": "2.98", "reference": "4111111111111111"}],
                change="0.00",
            ),
        ),
        _mutated("string NaN in money", "INVALID_MONEY", top(change="NaN")),
        _mutated("receipt number beyond 64 bits", "MALFORMED_MESSAGE", top(receipt_no=2**70)),
        _mutated(
            "duplicate line number",
            "DUPLICATE_LINE_NO",
            lambda p: p["lines"].append(dict(p["lines"][0])),
        ),
    ]


def poison_messages(box: str, tenant: str, branch: str) -> list[tuple[str, bytes]]:
    """Whole messages the hub refuses before any event (no ack, quarantined with a reason)."""
    good = [envelope(box, tenant, branch, 10**6, sale_payload(1))]
    deep = b'{"v":1,"events":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    return [
        ("not JSON", b"not json at all"),
        ("nested 50 000 deep", deep),
        ("NaN batch id", b'{"v":1,"batch_id":NaN,"box_id":"' + box.encode() + b'"}'),
        ("protocol v9", batch_bytes(box, good).replace(b'"v":1', b'"v":9', 1)),
        ("over 256 KiB", b'{"v":1,"pad":"' + b"x" * 300_000 + b'"}'),
        ("no events", batch_bytes(box, [])),
        ("batch of another box", batch_bytes(f"{box}-x", good)),
        ("a 5 000-digit integer", b'{"v":1,"batch_id":' + b"9" * 5000 + b"}"),
    ]
