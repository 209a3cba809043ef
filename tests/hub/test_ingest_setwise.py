"""Set-wise pieces of the ingest apply (issue 15 item 2): the product rollups summed from the
daily buckets equal adding every line to every bucket, the batch's row ids are v4 UUIDs, the
uuid columns take the fast literal path, and a sale's payload parsed where the batch is
decoded is the one the apply would have parsed."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

import pytest
from peewee import TextField

from hub.core import bulk
from hub.reports import product_rollup
from posdomain.envelope import decode_batch, encode
from posdomain.payloads import SaleCompleted
from scripts.testkit.crafted import batch_of, realistic_sale, sale_event

SUMS, LABELS, KEY = product_rollup.SUMS, product_rollup.LABELS, product_rollup.KEY


def _line_by_line(lines: list[tuple[dict[str, Any], int]]) -> list[dict[Any, Any]]:
    """The reference: each line added to its daily, monthly, tenant and tenant-daily bucket
    (labels from the latest added line; a line taken out labels only an unlabelled bucket)."""
    out: list[dict[Any, Any]] = [defaultdict(lambda: dict.fromkeys(SUMS, 0)) for _ in range(4)]
    for line, sign in lines:
        k = tuple(line[n] for n in KEY)
        month = str(k[2])[:7]
        keys = [k, (*k[:2], month, *k[3:]), (k[0], month, *k[3:]), (k[0], *k[2:])]
        for into, key in zip(out, keys, strict=True):
            bucket = into[key]
            for name in SUMS:
                bucket[name] += sign * int(line[name])
            for name in LABELS:
                if sign > 0 or name not in bucket:
                    bucket[name] = line[name]
    return [dict(b) for b in out]


@pytest.mark.req("NFR-003", "FR-600")
def test_summed_product_buckets_equal_line_by_line_buckets() -> None:
    rng = random.Random(15)
    for _ in range(2000):
        lines = []
        for _n in range(rng.randint(1, 12)):
            line = {
                "tenant_id": rng.choice(["t1", "t2"]),
                "branch_id": rng.choice(["b1", "b2"]),
                "business_day": date(2026, rng.choice([11, 12]), rng.choice([1, 30])),
                "product_id": rng.choice(["p1", "p2"]),
                "tax_class": "STD",
                "tax_rate": "0.20",
                "sku": f"s{rng.randint(0, 4)}",
                "name": f"n{rng.randint(0, 4)}",
                "category": rng.choice([None, "c1", "c2"]),
                **{n: rng.randint(-50, 50) for n in SUMS},
            }
            lines.append((line, rng.choice([1, 1, -1])))
        into = product_rollup.buckets()
        for line, sign in lines:
            product_rollup.add(into, line, sign)
        daily, monthly, tenant, tenant_daily = _line_by_line(lines)
        assert dict(into.daily) == daily
        assert [dict(b) for b in product_rollup.rolled_up(into)] == [monthly, tenant, tenant_daily]


@pytest.mark.req("NFR-003")
def test_batch_row_ids_are_distinct_v4_uuids() -> None:
    ids = bulk.uuid4_texts(5000)
    assert len(set(ids)) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    assert bulk.uuid4_texts(0) == []


@pytest.mark.req("NFR-003")
def test_uuid_column_literal_is_the_text_form() -> None:
    values = [uuid.uuid4() for _ in range(5)]
    field = TextField()
    assert bulk._text_column(field, values) == "{" + ",".join(map(str, values)) + "}"


@pytest.mark.req("FR-303", "NFR-005")
def test_sale_payload_parsed_at_decode_is_the_applied_one() -> None:
    good, bad = sale_event("box-x", 1), sale_event("box-x", 2)
    good["payload"] = realistic_sale(1, 30)
    bad["payload"] = {**realistic_sale(2, 3), "lines": "not lines"}
    _head, events = decode_batch(encode(batch_of("box-x", [good, bad])))
    first, second = events
    assert first.envelope is not None
    assert second.envelope is not None
    assert first.body == SaleCompleted.model_validate(first.envelope.payload)
    assert second.body is None  # the apply parses it again and refuses it with the details
