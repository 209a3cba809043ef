"""Hub settings from the environment (and overrides passed to create_app)."""

from __future__ import annotations

import os
import secrets
from typing import Any

DEFAULT_DATABASE_URL = "postgresql://cfpos_app@127.0.0.1:5432/cfpos_hub"


def defaults() -> dict[str, Any]:
    """The Flask config the hub starts from, read from CFPOS_* environment variables."""
    secret = os.environ.get("CFPOS_HUB_SECRET_KEY") or secrets.token_hex(32)
    return {
        "DATABASE_URL": os.environ.get("CFPOS_HUB_DATABASE_URL", DEFAULT_DATABASE_URL),
        "ADMIN_DATABASE_URL": os.environ.get("CFPOS_HUB_ADMIN_DATABASE_URL"),
        "MQTT_URL": os.environ.get("CFPOS_MQTT_URL", "mqtt://127.0.0.1:1883"),
        "SECRET_KEY": secret,
        "CFPOS_ENV": os.environ.get("CFPOS_ENV", "DEV").upper(),
        "IDLE_TIMEOUT_SECONDS": int(os.environ.get("CFPOS_HUB_IDLE_TIMEOUT", "900")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "AUDIT_CHECKPOINT_DIR": os.environ.get("CFPOS_HUB_CHECKPOINT_DIR"),
        "AUDIT_CHECKPOINT_KEY": os.environ.get("CFPOS_HUB_CHECKPOINT_KEY", secret),
        "VALIDATE_AUDIT_ON_START": True,
        "PUBLISH_DOWN": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CFPOS_HUB_SECURE_COOKIES", "0") == "1",
    }


def mqtt_host_port(url: str) -> tuple[str, int]:
    """(host, port) of an mqtt://host:port URL."""
    rest = url.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or 1883)
