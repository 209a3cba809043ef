"""The hub's own broker login (ingest worker and down publisher) on an access-controlled broker.

`python -m hub mqtt-config` writes the broker's password/ACL files and the hub's password file;
point CFPOS_MQTT_USERNAME / CFPOS_MQTT_PASSWORD_FILE at them. Unset = anonymous (dev broker).
TLS: an `mqtts://` CFPOS_MQTT_URL, with CFPOS_MQTT_CA_FILE naming the CA that signed the
broker's certificate; the chain is always verified and nothing falls back to plain text.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from hub.settings import HubSettings, settings
from posdomain import topics


@dataclass(frozen=True)
class MqttLogin:
    """Username and password file of the hub's broker account (None = anonymous), and TLS."""

    username: str | None = None
    password_file: Path | None = None
    tls: bool = False
    ca_file: Path | None = None  # None: the system's CAs
    verify_hostname: bool = True

    @classmethod
    def from_settings(cls, hub: HubSettings | None = None) -> MqttLogin:
        """The login the hub's settings name."""
        hub = hub or settings()
        return cls(
            hub.mqtt_username,
            hub.mqtt_password_file,
            tls=hub.mqtt_tls,
            ca_file=hub.mqtt_ca_file,
            verify_hostname=hub.mqtt_tls_verify_hostname,
        )


def apply_tls(client: mqtt.Client, login: MqttLogin) -> None:
    """Require TLS with a verified certificate chain on a paho client, if the login says TLS."""
    if not login.tls:
        return
    client.tls_set(
        ca_certs=str(login.ca_file) if login.ca_file else None, cert_reqs=ssl.CERT_REQUIRED
    )
    client.tls_insecure_set(not login.verify_hostname)


def apply_credentials(client: mqtt.Client, login: MqttLogin | None = None) -> None:
    """Set TLS and username/password on a paho client, as the login configures them."""
    login = login or MqttLogin.from_settings()
    apply_tls(client, login)
    if not login.username:
        return
    password = (
        login.password_file.read_text(encoding="utf-8").strip() if login.password_file else None
    )
    client.username_pw_set(login.username, password)


def session_id(name: str, login: MqttLogin | None = None) -> str:
    """The MQTT client id of a hub process on the broker: `topics.keyed_client_id` under the
    hub's password (a box cannot take over an ingest worker's session by its name)."""
    login = login or MqttLogin.from_settings()
    if not login.username or not login.password_file:
        return name
    return topics.keyed_client_id(name, login.password_file.read_text(encoding="utf-8").strip())
