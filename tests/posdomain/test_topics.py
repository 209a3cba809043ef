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


@pytest.mark.req("NFR-003", "FR-303")
@pytest.mark.parametrize(
    ("worker_id", "segment"),
    [
        ("hub-ingest", "hub-ingest"),
        ("ingest/a+b#c.d e", "ingest_a_b_c_d_e"),  # no MQTT wildcard, level or NATS separator
        ("", "_"),  # never an empty level
        ("ingest-p0of2", "ingest-p0of2"),
        ("XX-ingest-X", "XX-ingest-X"),  # letters are kept, whichever
    ],
)
def test_each_ingest_worker_has_one_status_topic_level(worker_id: str, segment: str) -> None:
    topic = topics.hub_ingest_status(worker_id)
    assert topic == f"cfpos/v1/hub/ingest/{segment}/status"
    assert topics.worker_segment(worker_id) == segment
    assert topics.hub_worker_from_topic(topic) == segment
    assert topics.ALL_HUB_INGEST_STATUS == "cfpos/v1/hub/ingest/+/status"
    assert topics.hub_ingest_beat(worker_id) == f"cfpos/v1/hub/ingest/{segment}/beat"
    assert topics.ALL_HUB_INGEST_BEATS == "cfpos/v1/hub/ingest/+/beat"


@pytest.mark.req("NFR-003")
@pytest.mark.parametrize(
    "topic",
    [
        "cfpos/v1/hub/ingest//status",  # an empty worker level
        "cfpos/v1/hub/ingest/w1/state",
        "cfpos/v1/hub/ingest/w1/status/x",
        "cfpos/v1/hub/ingest/w1",
        "cfpos/v1/hub/egest/w1/status",
        "cfpos/v2/hub/ingest/w1/status",
        "other/v1/hub/ingest/w1/status",
        "cfpos/v1/box/ingest/w1/status",
        "cfpos/v1/box/b1/status",
    ],
)
def test_only_a_hub_ingest_status_topic_names_a_worker(topic: str) -> None:
    assert topics.hub_worker_from_topic(topic) is None


@pytest.mark.req("NFR-005")
def test_a_client_id_is_keyed_by_its_own_password_on_a_broker_with_logins() -> None:
    keyed = topics.keyed_client_id("cfpos-box-b1", "s3cret")
    assert keyed == "cfpos-box-b1-a3e543d30b49"  # HMAC-SHA256("s3cret", name)[:12], stable
    assert topics.keyed_client_id("cfpos-box-b1", "s3cret") == keyed  # restarts keep it
    assert topics.keyed_client_id("cfpos-box-b1", "other") != keyed
    assert topics.keyed_client_id("cfpos-box-b2", "s3cret") != keyed
    assert topics.keyed_client_id("cfpos-box-b1", None) == "cfpos-box-b1"  # anonymous broker
    assert topics.keyed_client_id("cfpos-box-b1", "") == "cfpos-box-b1"
