"""apply_batch: idempotent, contiguous acks, gap reporting, identity from the enrolled box."""

from __future__ import annotations

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from posdomain.errors import Reason, ValidationError
from scripts.testkit.crafted import make_batch
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"


@pytest.mark.req("FR-303")
def test_same_batch_twice_makes_one_sale(app):
    box = enrol_box(T, B)
    batch = make_batch(box, T, B, [1, 2])
    first = apply_batch(batch, box)
    second = apply_batch(batch, box)
    assert len(first.accepted) == 2
    assert first.acked_through == 2
    assert second.accepted == []
    assert len(second.duplicates) == 2
    assert second.acked_through == 2
    with tenant_tx(T):
        assert Sale.select().where(Sale.box_id == box).count() == 2


@pytest.mark.req("FR-303")
def test_gap_reports_missing_and_holds_contiguous_point(app):
    box = enrol_box(T, B)
    ack = apply_batch(make_batch(box, T, B, [1, 2, 5]), box)
    assert ack.acked_through == 2
    assert ack.missing_seqs == [3, 4]
    ack = apply_batch(make_batch(box, T, B, [4]), box)
    assert ack.acked_through == 2
    assert ack.missing_seqs == [3]
    ack = apply_batch(make_batch(box, T, B, [3]), box)
    assert ack.acked_through == 5
    assert ack.missing_seqs == []


@pytest.mark.req("FR-100", "FR-303")
def test_payload_cannot_choose_tenant_or_box(app):
    box = enrol_box(T, B)
    # an event of the box's own topic claiming another tenant: refused on its own, its seq
    # consumed (the box's queue drains), nothing stored in either tenant
    ack = apply_batch(make_batch(box, "t-harborfoods", "b-harbor-main", [1]), box)
    assert (ack.accepted, ack.acked_through) == ([], 1)
    assert ack.rejected[0]["reason"] == "TENANT_MISMATCH"
    for tenant in (T, "t-harborfoods"):
        with tenant_tx(tenant):
            assert Sale.select().where(Sale.box_id == box).count() == 0
    with pytest.raises(ValidationError) as err:
        apply_batch(make_batch(box, T, B, [1]), "box-other")
    assert err.value.reason is Reason.BOX_MISMATCH
    with pytest.raises(ValidationError) as err:
        apply_batch(make_batch("box-nope-unknown", T, B, [1]), "box-nope-unknown")
    assert err.value.reason is Reason.UNKNOWN_BOX


@pytest.mark.req("FR-303", "NFR-005")
def test_bad_sale_payload_is_rejected_but_seq_consumed(app):
    box = enrol_box(T, B)
    batch = make_batch(box, T, B, [1])
    data = batch.model_dump(mode="json")
    data["events"][0]["payload"]["total"] = "1.555"  # sub-cent money is refused
    from posdomain.envelope import EventBatch

    ack = apply_batch(EventBatch.model_validate(data), box)
    assert ack.acked_through == 1
    assert ack.accepted == []
    assert ack.rejected[0]["reason"] == "INVALID_MONEY"
    with tenant_tx(T):
        assert Sale.select().where(Sale.box_id == box).count() == 0
