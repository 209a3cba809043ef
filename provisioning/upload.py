"""Upload a commissioning report to the hub (HTTP basic with the box's MQTT login)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware_config.schema import BoxConfig
from provisioning.http import HttpClient, HubUnreachable


def box_login(config: BoxConfig) -> tuple[str, str]:
    """The box's MQTT username and password (from its 0600 password file)."""
    if not config.mqtt.username or not config.mqtt.password_file:
        raise ValueError("mqtt.username and mqtt.password_file are needed to report")
    password = Path(config.mqtt.password_file).read_text(encoding="utf-8").strip()
    return config.mqtt.username, password


def upload_report(
    config: BoxConfig, report: dict[str, Any], hub_url: str, client: HttpClient
) -> tuple[bool, str]:
    """POST the report; (ok, a line saying what happened and what to do)."""
    url = f"{hub_url.rstrip('/')}/api/v1/boxes/{config.box_id}/commissioning"
    try:
        status, body = client.post_json(url, report, basic_auth=box_login(config))
    except (HubUnreachable, ValueError, OSError) as err:
        return False, f"report upload failed: {err} — keep the --json copy and retry later"
    if status != 201:
        problem = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
        return False, (
            f"report upload refused (HTTP {status} {problem.get('reason', '')}): "
            f"{problem.get('message', '')}"
        )
    return True, f"report stored on the hub as {body.get('id')}"
