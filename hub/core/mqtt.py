"""The hub's own broker login (ingest worker and down publisher) on an access-controlled broker.

`python -m hub mqtt-config` writes the broker's password/ACL files and the hub's password file;
point CFPOS_MQTT_USERNAME / CFPOS_MQTT_PASSWORD_FILE at them. Unset = anonymous (dev broker).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from hub.settings import HubSettings, settings


@dataclass(frozen=True)
class MqttLogin:
    """Username and password file of the hub's broker account (None = anonymous)."""

    username: str | None = None
    password_file: Path | None = None

    @classmethod
    def from_settings(cls, hub: HubSettings | None = None) -> MqttLogin:
        """The login the hub's settings name."""
        hub = hub or settings()
        return cls(hub.mqtt_username, hub.mqtt_password_file)


def apply_credentials(client: mqtt.Client, login: MqttLogin | None = None) -> None:
    """Set username/password on a paho client, if a login is configured."""
    login = login or MqttLogin.from_settings()
    if not login.username:
        return
    password = (
        login.password_file.read_text(encoding="utf-8").strip() if login.password_file else None
    )
    client.username_pw_set(login.username, password)
