"""Hub ingest of exchanges (FR-303, FR-302; issue 14 item 3): documents a real box made (a
sale and three exchanges of it: the customer pays, gets money back, or neither; captured from
tests/appliance/till/test_exchange.py's flows) are accepted with their returned lines stored
negative; the same document without the returned line's `return_of` (money paid out for
returns without their sale) is refused UNMATCHED_RETURN."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import Sale, SaleLine
from tests.hub.conftest import enrol_box
from tests.hub.loyalty_helpers import _envelope, send

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-303", "FR-302")]
T, B = "t-greenbasket", "b-downtown"
CAPTURED = Path(__file__).parent / "captured" / "exchanges.json"


def _fresh(doc: dict[str, Any], sale_ids: dict[str, str]) -> dict[str, Any]:
    """A captured document with new ids (so every run stores its own) and timed now."""
    out = copy.deepcopy(doc)
    out["sale_id"] = sale_ids.setdefault(doc["sale_id"], str(uuid.uuid4()))
    out["completed_at"] = datetime.now(UTC).isoformat()
    for line in out["lines"]:
        if line.get("return_of"):
            line["return_of"]["sale_id"] = sale_ids[line["return_of"]["sale_id"]]
    return out


def test_exchanges_paying_in_out_or_even_are_accepted(app: Any) -> None:
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    docs = [_fresh(d, ids) for d in [captured["sale"], *captured["exchanges"]]]
    ack = send(box, [_envelope(box, n, "sale.completed", d) for n, d in enumerate(docs, 1)])
    assert (len(ack.accepted), ack.rejected) == (4, [])
    with tenant_tx(T):
        totals = [Sale.get_by_id(d["sale_id"]).total_minor for d in docs]
        assert totals == [648, 51, -189, 0]
        back = SaleLine.select().where(
            SaleLine.sale_id.in_([d["sale_id"] for d in docs[1:]]), SaleLine.line_total_minor < 0
        )
        assert sorted(ln.line_total_minor for ln in back) == [-250, -199, -199]


def test_money_back_for_returns_without_their_sale_is_refused(app: Any) -> None:
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    payout = _fresh(captured["exchanges"][1], {captured["sale"]["sale_id"]: "x"})
    for line in payout["lines"]:
        line.pop("return_of", None)
    ack = send(box, [_envelope(box, 1, "sale.completed", payout)])
    assert [r["reason"] for r in ack.rejected] == ["UNMATCHED_RETURN"]
