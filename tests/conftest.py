"""Shared fixtures: the real PostgreSQL and Mosquitto on this machine (never mocked)."""

from __future__ import annotations

import os

import pytest

from scripts.demo import port_open

PG_ADMIN_DSN = os.environ.get(
    "CFPOS_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MQTT_HOST = os.environ.get("CFPOS_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("CFPOS_MQTT_PORT", "1883"))


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    """Superuser DSN of the real PostgreSQL (fails loudly if it is not running)."""
    if not port_open("127.0.0.1", 5432):
        pytest.fail("PostgreSQL is not running on 127.0.0.1:5432: run scripts/ensure-services.sh")
    return PG_ADMIN_DSN


@pytest.fixture(scope="session")
def mqtt_addr() -> tuple[str, int]:
    """(host, port) of the real Mosquitto (fails loudly if it is not running)."""
    if not port_open(MQTT_HOST, MQTT_PORT):
        pytest.fail(f"Mosquitto is not on {MQTT_HOST}:{MQTT_PORT}: run scripts/ensure-services.sh")
    return MQTT_HOST, MQTT_PORT
