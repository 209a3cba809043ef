"""Broker failover, pure policy: the endpoints of a clustered broker tried in turn.

Shared by the box's transport (`mqtt.failover`, appliance/sync/transport.py) and the hub's
ingest worker (`CFPOS_MQTT_FAILOVER`, hub/sync/worker.py): a lost connection, a failed
connect or a connection closed before its CONNACK moves the client to the next endpoint;
paho reconnects there after its jittered wait (posdomain/flow.py `reconnect_wait`). With one
endpoint nothing moves (paho retries the same address).
"""

from __future__ import annotations

from collections.abc import Sequence

Endpoint = tuple[str, int]


class EndpointRing:
    """The broker endpoints in the order they are tried, and the one in use."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        if not endpoints:
            raise ValueError("at least one broker endpoint")
        self.endpoints: tuple[Endpoint, ...] = tuple(endpoints)
        self.at = 0  # index of the endpoint in use (or being tried)

    @property
    def current(self) -> Endpoint:
        """The endpoint in use or being tried."""
        return self.endpoints[self.at]

    def advance(self) -> Endpoint | None:
        """Move to the next endpoint and return it; None with a single endpoint."""
        if len(self.endpoints) < 2:
            return None
        self.at = (self.at + 1) % len(self.endpoints)
        return self.current
