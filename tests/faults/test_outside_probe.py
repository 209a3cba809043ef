"""The outside test of the ingest integrity issue: `scripts.outside_ingest_probe` publishes a
few hundred crafted and hostile batches with mosquitto_pub as the stack's real box and as a
second enrolled box while the real box sells; the hub must hold exactly the real box's sales
(SQL), the box's queue must drain, and every refusal must be answered as it should."""

from __future__ import annotations

import pytest

from scripts.outside_ingest_probe import run_probe
from scripts.sync_harness import FaultStack

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.mark.req("FR-303", "FR-300", "NFR-003", "NFR-005")
def test_outside_probe_hub_holds_exactly_the_box_sales(fault_stack: FaultStack) -> None:
    report = run_probe(fault_stack, rounds=3, per_round=25)
    assert report.surprises == []
    assert report.messages >= 200, "a few hundred crafted messages"
    assert report.figures["sales"] >= 10
    assert report.figures["refusals_raised"] > 0
    print(f"probe: {report.messages} messages, {report.events} events, {report.figures}")
