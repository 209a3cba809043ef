"""Sync-agent fixtures (real broker) shared by the sync tests."""

from tests.appliance.sync.test_sync_agent import (  # noqa: F401 - fixtures re-exported
    acker_factory,
    mqtt_config,
    start_agent,
)
