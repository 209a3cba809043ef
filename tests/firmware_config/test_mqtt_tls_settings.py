"""Plain MQTT only on loopback, TLS settings of box and hub (issue 10 item 9; NFR-005).

Before: a box config could point plain MQTT at any broker on the internet, and a PROD hub
would connect its ingest worker to one in clear text.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from firmware_config.schema import MqttSettings
from hub.settings import SettingsError, load_settings, mqtt_host_port

pytestmark = pytest.mark.req("NFR-005")
STRONG = "x" * 40


def test_a_box_refuses_plain_mqtt_to_another_machine() -> None:
    with pytest.raises(ValidationError, match=r"set mqtt\.tls: true"):
        MqttSettings(host="broker.example.com", port=1883)
    tls = MqttSettings(host="broker.example.com", port=8883, tls=True, ca_file="/etc/ca.pem")
    assert (tls.tls, tls.ca_file, tls.tls_verify_hostname) == (True, "/etc/ca.pem", True)
    for host in ("127.0.0.1", "localhost", "::1"):
        assert not MqttSettings(host=host).tls  # loopback: plain is fine


def test_a_prod_hub_refuses_plain_mqtt_to_another_machine() -> None:
    secrets = {"hub_secret_key": STRONG, "hub_checkpoint_key": STRONG}
    for name, url in (("mqtt_url", "mqtt://broker:1883"), ("mqtt_public_url", "mqtt://b:1883")):
        with pytest.raises(SettingsError, match="refuses plain MQTT"):
            load_settings(env="PROD", **secrets, **{name: url})
    ok = load_settings(env="PROD", **secrets, mqtt_url="mqtts://broker", mqtt_ca_file="/ca.pem")
    assert ok.mqtt_tls
    assert ok.mqtt_host_port() == ("broker", 8883)
    assert load_settings(env="DEV", mqtt_url="mqtt://broker:1883").mqtt_tls is False
    assert mqtt_host_port("mqtt://127.0.0.1") == ("127.0.0.1", 1883)


def test_failover_endpoints_follow_the_host_and_the_same_plain_text_rule() -> None:
    one = MqttSettings(host="127.0.0.1", port=1883)
    assert one.endpoints() == [("127.0.0.1", 1883)]  # a single broker: nothing to fail over to
    two = MqttSettings(port=4001, failover=[{"host": "localhost", "port": 4002}])  # type: ignore[list-item]
    assert two.endpoints() == [("127.0.0.1", 4001), ("localhost", 4002)]
    with pytest.raises(ValidationError, match=r"mqtt\.failover\[0\]\.host 'node2\.example\.com'"):
        MqttSettings(failover=[{"host": "node2.example.com"}])  # type: ignore[list-item]
    tls = MqttSettings(
        host="node1.example.com",
        port=8883,
        tls=True,
        failover=[{"host": "node2.example.com", "port": 8883}],  # type: ignore[list-item]
    )
    assert tls.endpoints()[1] == ("node2.example.com", 8883)
