"""Test-only stand-in for the hub's catalog answering: BoxRequest in, catalog chunks out.

A real MQTT peer on the real broker (nothing mocked). It chains chunks the way the hub does
(`from_version` of one = `to_version` of the previous; products with version in (H, to]) and
can "lose" the rest of an answer after its first chunk, as a hub restart would.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from posdomain import topics
from posdomain.envelope import BoxRequest, DownMessage, decode, encode
from tests.appliance.factories import BRANCH, TENANT


class CatalogPeer:
    """Answer a box's catalog requests from `products` (each carrying its `version`)."""

    def __init__(
        self,
        host: str,
        port: int,
        box_id: str,
        products: list[dict[str, Any]],
        *,
        chunk_size: int = 2,
        truncate_first: bool = False,
    ) -> None:
        self.box_id = box_id
        self.products = sorted(products, key=lambda p: p["version"])
        self.chunk_size = chunk_size
        self.truncate_next = truncate_first
        self.requests: list[BoxRequest] = []
        self._ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-catalog-{uuid.uuid4().hex[:8]}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_connect = lambda c, *_a: c.subscribe(topics.box_request(box_id), qos=1)
        self.client.on_subscribe = lambda *_a: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        assert self._ready.wait(5), "catalog peer did not subscribe"

    def chunks(self, since: int) -> list[dict[str, Any]]:
        """Chunk bodies from `since` to the newest product version."""
        todo = [p for p in self.products if p["version"] > since]
        bodies, start = [], since
        for n in range(0, len(todo), self.chunk_size):
            part = todo[n : n + self.chunk_size]
            end = int(part[-1]["version"])
            last = n + self.chunk_size >= len(todo)
            bodies.append(
                {"head": False, "from_version": start, "to_version": end, "products": part,
                 "last": last}
            )  # fmt: skip
            start = end
        return bodies

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        request = decode(bytes(msg.payload), BoxRequest)
        if request.kind != "catalog":  # card-directory requests and searches are not ours
            return
        self.requests.append(request)
        bodies = self.chunks(request.since_version)
        if self.truncate_next:
            self.truncate_next = False
            bodies = bodies[:1]
        for body in bodies:
            message = DownMessage(
                kind="catalog",
                version=body["to_version"],
                tenant_id=TENANT,
                branch_id=BRANCH,
                issued_at=datetime.now(UTC),
                body=body,
            )
            client.publish(topics.box_down(self.box_id, "catalog"), encode(message), qos=1)

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
