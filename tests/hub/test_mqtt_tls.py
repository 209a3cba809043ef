"""MQTT over TLS between box and hub (issue 10 item 9; NFR-005, FR-002).

Before: TLS was an untested box-only switch (`tls_set()` with no CA and no way to name one),
and the hub's ingest worker and down publisher had none. Now both sides take a CA file and
verify the broker's certificate chain (and hostname). The test builds a CA and a server
certificate with openssl, starts a private Mosquitto with a TLS-only listener, and shows a
sale batch published by the box's transport is applied and acked by the hub's worker over
TLS; a box or hub holding the wrong CA, a broker with an expired certificate and a
plain-text client are all refused, never served in plain text.
"""

from __future__ import annotations

import queue
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from appliance.sync.transport import PahoTransport
from firmware_config.schema import MqttSettings, load_box_config
from hub.core.mqtt import MqttLogin
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import BatchAck, encode
from provisioning.__main__ import main as provisioning_main
from provisioning.selftest import Step, check_broker
from scripts.testkit.broker import PrivateBroker
from scripts.testkit.crafted import make_batch
from scripts.testkit.tls import Pki, make_pki
from tests.appliance.factories import make_config
from tests.hub.conftest import enrol_box, login
from tests.provisioning.helpers import FlaskHttp

pytestmark = [
    pytest.mark.pg,
    pytest.mark.slow,
    pytest.mark.req("NFR-005", "FR-002"),
    # paho drops the socket of a refused TLS handshake without closing it
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]
T, B = "t-greenbasket", "b-downtown"


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path / "broker", tls=pki)
    broker.start()
    yield broker
    broker.stop()


def _box(broker: PrivateBroker, **tls: object) -> PahoTransport:
    settings = MqttSettings(host="127.0.0.1", port=broker.port, **tls)  # type: ignore[arg-type]
    return PahoTransport(settings, f"box-tls-{uuid.uuid4().hex[:8]}")


def _worker(broker: PrivateBroker, ca: Path) -> IngestWorker:
    login = MqttLogin(tls=True, ca_file=ca)
    return IngestWorker("127.0.0.1", broker.port, f"hub-tls-{uuid.uuid4().hex[:8]}", login)


def test_a_sale_batch_flows_box_to_hub_and_back_over_tls(
    app: object, tls_broker: PrivateBroker, pki: Pki
) -> None:
    box_id = enrol_box(T, B)
    worker = _worker(tls_broker, pki.ca_cert)
    box = _box(tls_broker, tls=True, ca_file=str(pki.ca_cert))
    acks: queue.Queue[bytes] = queue.Queue()
    worker.start()
    try:
        assert worker.ready.wait(10), "the hub did not subscribe over TLS"
        box.subscribe(topics.box_ack(box_id), lambda _t, payload: acks.put(payload))
        box.start()
        assert box.wait_connected(10), "the box did not connect over TLS"
        batch = make_batch(box_id, T, B, [1, 2])
        box.publish(topics.box_events(box_id), encode(batch))
        ack = BatchAck.model_validate_json(acks.get(timeout=15))
        assert (ack.batch_id, ack.acked_through, len(ack.accepted)) == (batch.batch_id, 2, 2)
    finally:
        box.stop()
        worker.stop()


def test_a_box_with_the_wrong_ca_or_without_tls_is_refused(
    tls_broker: PrivateBroker, pki: Pki
) -> None:
    for tls in ({"tls": True, "ca_file": str(pki.wrong_ca_cert)}, {"tls": False}):
        box = _box(tls_broker, **tls)
        box.start()
        try:
            assert not box.wait_connected(3), f"connected with {tls}"
        finally:
            box.stop()
    right = _box(tls_broker, tls=True, ca_file=str(pki.ca_cert))
    right.start()
    try:
        assert right.wait_connected(10)  # the broker itself is fine
    finally:
        right.stop()


def test_the_hub_with_the_wrong_ca_is_refused(tls_broker: PrivateBroker, pki: Pki) -> None:
    worker = _worker(tls_broker, pki.wrong_ca_cert)
    with pytest.raises(ssl.SSLCertVerificationError):
        worker.start()
    worker.client.loop_stop()


def test_a_broker_with_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    expired = make_pki(tmp_path / "old", expired=True)
    broker = PrivateBroker(tmp_path / "old-broker", tls=expired)
    broker.start()
    try:
        box = _box(broker, tls=True, ca_file=str(expired.ca_cert))
        box.start()
        try:
            assert not box.wait_connected(3)
        finally:
            box.stop()
        with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
            _worker(broker, expired.ca_cert).start()
    finally:
        broker.stop()


def test_the_self_test_passes_over_tls_and_names_a_refused_certificate(
    tmp_path: Path, tls_broker: PrivateBroker, pki: Pki
) -> None:
    base = make_config(tmp_path / "box")

    def step(ca: Path) -> Step:
        mqtt = MqttSettings(host="127.0.0.1", port=tls_broker.port, tls=True, ca_file=str(ca))
        return check_broker(base.model_copy(update={"mqtt": mqtt}), timeout=5)

    good = step(pki.ca_cert)
    assert good.ok, good
    wrong = step(pki.wrong_ca_cert)
    assert not wrong.ok
    assert "TLS: the broker's certificate was refused" in wrong.message
    assert "mqtt.ca_file" in wrong.action


@pytest.mark.req("FR-500")
def test_enrolment_through_an_mqtts_url_writes_tls_and_the_ca_onto_the_box(
    app: Flask, tmp_path: Path, tls_broker: PrivateBroker, pki: Pki
) -> None:
    saved = {k: app.config.get(k) for k in ("MQTT_PUBLIC_URL", "MQTT_BOX_CA_FILE")}
    app.config.update(MQTT_PUBLIC_URL=tls_broker.url, MQTT_BOX_CA_FILE=pki.ca_cert)
    try:
        client = app.test_client()
        login(client, "owner")
        made = client.post("/api/v1/enrolment-codes", json={"branch_id": B})
        assert made.status_code == 201, made.get_json()
        code = str(made.get_json()["code"])
        out = tmp_path / "etc"
        argv = ["enrol", "--hub", "http://hub.test", "--code", code, "--out", str(out)]
        argv += [
            "--database",
            str(tmp_path / "box.sqlite3"),
        ]
        assert provisioning_main(argv, client=FlaskHttp(client)) == 0
    finally:
        app.config.update(saved)
    config = load_box_config(out / "box.yaml")
    assert (config.mqtt.tls, config.mqtt.port) == (True, tls_broker.port)
    assert config.mqtt.ca_file == str(out / "mqtt-ca.pem")
    assert Path(config.mqtt.ca_file).read_text() == pki.ca_cert.read_text()
    step = check_broker(config, timeout=5)  # the enrolled box reaches the TLS-only broker
    assert step.ok, step
