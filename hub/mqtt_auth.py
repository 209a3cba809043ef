"""The hub's own broker login (ingest worker and down publisher) on an access-controlled broker.

`python -m hub mqtt-config` writes the broker's password/ACL files and the hub's password file;
point CFPOS_MQTT_USERNAME / CFPOS_MQTT_PASSWORD_FILE at them. Unset = anonymous (dev broker).
"""

from __future__ import annotations

import os
from pathlib import Path

import paho.mqtt.client as mqtt


def apply_credentials(client: mqtt.Client) -> None:
    """Set username/password on a paho client from the environment, if configured."""
    username = os.environ.get("CFPOS_MQTT_USERNAME")
    if not username:
        return
    password_file = os.environ.get("CFPOS_MQTT_PASSWORD_FILE")
    password = Path(password_file).read_text(encoding="utf-8").strip() if password_file else None
    client.username_pw_set(username, password)
