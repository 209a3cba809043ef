"""NFR-005: per-box MQTT credentials and ACLs, proven on a private real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.sync.transport import PahoTransport
from firmware_config.schema import MqttSettings
from hub.boxes import broker_acl
from hub.core.mqtt import MqttLogin, session_id
from hub.settings import load_settings
from hub.sync.worker import IngestWorker
from posdomain import topics
from scripts.testkit.broker import AclBroker as Broker
from scripts.testkit.broker import acl_broker
from scripts.testkit.waiting import poll_until, wait_until
from tests.provisioning.helpers import probe

pytestmark = [pytest.mark.mqtt]
PW_A, PW_B = "box-a-secret", "box-b-secret"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Box A hashed by mosquitto_passwd, box B by our Python `$7$` (both must log in)."""
    tool = broker_acl.tool_hash(PW_A)
    assert tool is not None, "mosquitto_passwd should be installed on this machine"
    users = [
        broker_acl.MqttUser("box-a", tool, "box-a"),
        broker_acl.MqttUser("box-b", broker_acl.python_hash(PW_B), "box-b"),
    ]
    with acl_broker(tmp_path_factory.mktemp("acl-broker"), users) as running:
        yield running


@pytest.mark.req("NFR-005")
def test_generated_files(broker: Broker) -> None:
    acl = (broker.out_dir / "acl").read_text()
    assert "user box-a\ntopic write cfpos/v1/box/box-a/events" in acl
    assert "topic read cfpos/v1/box/box-a/down/#" in acl
    assert "topic read cfpos/v1/box/+/events" in acl
    conf = (broker.out_dir / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert "max_queued_messages 200000" in conf
    assert "persistent_client_expiration 30d" in conf  # orphaned sessions stop queueing
    assert (broker.out_dir / "passwd").stat().st_mode & 0o777 == 0o600
    assert broker_acl.verify_password(broker_acl.python_hash("x"), "x")
    assert not broker_acl.verify_password(broker_acl.python_hash("x"), "y")


@pytest.mark.req("NFR-005")
def test_box_publishes_own_events_and_reads_own_acks(broker: Broker) -> None:
    hub = probe(broker.port, broker_acl.HUB_USER, broker.hub_password, "t-hub-1")
    box_a = probe(broker.port, "box-a", PW_A, "t-box-a-1")
    try:
        assert hub.connack == "Success"
        assert box_a.connack == "Success"
        assert hub.subscribe(topics.ALL_BOX_EVENTS) == [1]
        assert box_a.subscribe(topics.box_ack("box-a")) == [1]
        assert box_a.publish(topics.box_events("box-a"), b"batch-a")
        assert wait_until(lambda: (topics.box_events("box-a"), b"batch-a") in hub.received)
        assert hub.publish(topics.box_ack("box-a"), b"ack-a")
        assert wait_until(lambda: (topics.box_ack("box-a"), b"ack-a") in box_a.received)
    finally:
        hub.close()
        box_a.close()


@pytest.mark.req("NFR-005")
def test_box_cannot_write_or_read_another_box(broker: Broker) -> None:
    hub = probe(broker.port, broker_acl.HUB_USER, broker.hub_password, "t-hub-2")
    box_a = probe(broker.port, "box-a", PW_A, "t-box-a-2")
    try:
        hub.subscribe(topics.ALL_BOX_EVENTS)
        # MQTT 3.1.1: the broker PUBACKs a publish its ACL drops (PITFALLS "Sync") ...
        assert box_a.publish(topics.box_events("box-b"), b"forged")
        assert box_a.publish(topics.box_events("box-a"), b"marker")
        assert wait_until(lambda: (topics.box_events("box-a"), b"marker") in hub.received)
        # ... but it is never delivered: only the hub's own ack proves delivery
        assert (topics.box_events("box-b"), b"forged") not in hub.received
        codes = box_a.subscribe(topics.box_down("box-b", "#"))
        hub.publish(topics.box_down("box-b", "staff"), b"secret staff list")
        assert not poll_until(lambda: box_a.received, timeout=0.5)
        assert codes == [128] or box_a.received == []
    finally:
        hub.close()
        box_a.close()


@pytest.mark.req("NFR-005")
def test_wrong_password_and_anonymous_are_refused(broker: Broker, tmp_path: Path) -> None:
    wrong = probe(broker.port, "box-a", "not-the-password", "t-wrong")
    anon = probe(broker.port, None, None, "t-anon")
    try:
        assert wrong.connack != "Success"
        assert anon.connack != "Success"
    finally:
        wrong.close()
        anon.close()


@pytest.mark.req("NFR-005")
def test_hub_ingest_worker_logs_in_with_its_configured_credentials(
    broker: Broker, tmp_path: Path
) -> None:
    """The ingest worker uses CFPOS_MQTT_USERNAME / CFPOS_MQTT_PASSWORD_FILE on a locked broker."""
    pw_file = tmp_path / "hub.password"
    pw_file.write_text(broker.hub_password + "\n")
    settings = load_settings(mqtt_username=broker_acl.HUB_USER, mqtt_password_file=pw_file)
    login = MqttLogin.from_settings(settings)
    worker = IngestWorker("127.0.0.1", broker.port, client_id="t-hub-creds", login=login)
    worker.client.connect("127.0.0.1", broker.port)
    worker.client.loop_start()
    try:
        assert worker.ready.wait(10), "the worker never subscribed with its credentials"
    finally:
        worker.client.loop_stop()
        worker.client.disconnect()

    anonymous = IngestWorker("127.0.0.1", broker.port, client_id="t-hub-anon", login=MqttLogin())
    anonymous.client.connect("127.0.0.1", broker.port)
    anonymous.client.loop_start()
    try:
        assert not anonymous.ready.wait(2), "an anonymous hub must be refused"
    finally:
        anonymous.client.loop_stop()
        anonymous.client.disconnect()


@pytest.mark.req("NFR-005")
def test_a_box_cannot_take_over_an_ingest_worker_s_client_id(
    broker: Broker, tmp_path: Path
) -> None:
    """Session takeover by client id: Mosquitto's password/acl files do not tie a client id to
    a username, so a box connecting with an ingest worker's predictable id made the broker
    drop the worker and publish its offline will (the other partitioned workers then took its
    boxes over). The worker's broker session id carries a suffix keyed by the hub's password
    (hub.core.mqtt.session_id); its public name, which boxes may read in the status topics,
    does not reveal it."""
    pw_file = tmp_path / "hub.password"
    pw_file.write_text(broker.hub_password + "\n")
    login = MqttLogin(broker_acl.HUB_USER, pw_file)
    name = "cfpos-hub-ingest-p0of2"
    worker = IngestWorker("127.0.0.1", broker.port, client_id=name, login=login)
    worker.client.connect("127.0.0.1", broker.port)
    worker.client.loop_start()
    box_a = None
    try:
        assert worker.ready.wait(10), "the worker never subscribed"
        for guess in (name, f"{name}-{'0' * 12}"):  # its name, or a guessed suffix
            box_a = probe(broker.port, "box-a", PW_A, guess)
            kicked = poll_until(lambda: not worker.client.is_connected(), timeout=2)
            assert not kicked, f"a box connecting as {guess!r} took the worker's session over"
            box_a.close()
            box_a = None
    finally:
        if box_a is not None:
            box_a.close()
        worker.client.loop_stop()
        worker.client.disconnect()
    assert worker.session_id.startswith(f"{name}-")
    assert worker.session_id == session_id(name, login)
    assert worker.status_topic == topics.hub_ingest_status(name)  # public: the name


@pytest.mark.req("NFR-005")
def test_the_session_suffix_is_stable_keyed_and_absent_without_a_login(tmp_path: Path) -> None:
    one, other = tmp_path / "one.password", tmp_path / "other.password"
    one.write_text("s3cret\n")
    other.write_text("another\n")
    login = MqttLogin("hub", one)
    assert session_id("w", login) == session_id("w", login)  # restarts keep their session
    assert session_id("w", login) != session_id("w", MqttLogin("hub", other))
    assert session_id("w", login) != session_id("v", login)
    assert session_id("w", MqttLogin()) == "w"  # an anonymous dev broker


@pytest.mark.req("NFR-005")
def test_a_box_cannot_take_over_another_box_s_client_id(broker: Broker, tmp_path: Path) -> None:
    """The box's own transport connects with `cfpos-box-<id>` keyed by its password, so box B
    connecting with box A's predictable client id does not drop box A's session."""
    pw_file = tmp_path / "box-a.password"
    pw_file.write_text(PW_A + "\n")
    box_a = PahoTransport(
        MqttSettings(port=broker.port, username="box-a", password_file=str(pw_file)),
        "cfpos-box-box-a",
    )
    assert box_a.session_id == topics.keyed_client_id("cfpos-box-box-a", PW_A)
    box_a.start()
    box_b = None
    try:
        wait_until(box_a.is_connected, 10, "box A connected")
        box_b = probe(broker.port, "box-b", PW_B, "cfpos-box-box-a")
        kicked = poll_until(lambda: not box_a.is_connected(), timeout=2)
        assert not kicked, "box B took box A's session over by its client id"
    finally:
        if box_b is not None:
            box_b.close()
        box_a.stop()
