"""MQTT topic names live in one module and parse back to the box id."""

from __future__ import annotations

import pytest

from posdomain import topics


@pytest.mark.req("FR-800")
def test_topic_names() -> None:
    assert topics.box_events("b1") == "cfpos/v1/box/b1/events"
    assert topics.box_ack("b1") == "cfpos/v1/box/b1/ack"
    assert topics.box_down("b1", "staff") == "cfpos/v1/box/b1/down/staff"
    assert topics.box_status("b1") == "cfpos/v1/box/b1/status"
    assert topics.ALL_BOX_EVENTS == "cfpos/v1/box/+/events"
    assert topics.ALL_BOX_STATUS == "cfpos/v1/box/+/status"


@pytest.mark.parametrize(
    ("topic", "box_id"),
    [
        ("cfpos/v1/box/b1/events", "b1"),
        ("cfpos/v1/box/box-9/down/catalog", "box-9"),
        ("cfpos/v1/box/b1", "b1"),
        ("cfpos/v1/box//events", None),
        ("cfpos/v2/box/b1/events", None),
        ("other/v1/box/b1/events", None),
        ("cfpos/v1/hub/b1/events", None),
        ("cfpos/v1/box", None),
        ("", None),
    ],
)
def test_box_id_from_topic(topic: str, box_id: str | None) -> None:
    assert topics.box_id_from_topic(topic) == box_id


def test_builders_round_trip_through_parser() -> None:
    for build in (topics.box_events, topics.box_ack, topics.box_status):
        assert topics.box_id_from_topic(build("store-7")) == "store-7"
    assert topics.box_id_from_topic(topics.box_down("store-7", "risk")) == "store-7"
