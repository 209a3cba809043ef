"""The ingest worker's broker link: the paho client, its endpoints (failover), its topic
filters and its presence (a retained status with an offline last will).

`IngestLink` is the base of `IngestWorker` (hub/sync/worker.py), which adds the queues and
threads that take messages off this link and apply them. Kept apart so the connection
lifecycle (connect, fail over, subscribe and ask again, announce, leave) reads on its own.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hub.core.mqtt import MqttLogin, apply_credentials, session_id
from hub.sync.follower import PartitionFollower, spec
from hub.sync.partition import DEFAULT_REFRESH, Partition
from hub.sync.takeover import DEFAULT_STALE
from posdomain import topics
from posdomain.envelope import IngestStatus, encode
from posdomain.failover import EndpointRing
from posdomain.flow import RECONNECT_MAX, reconnect_wait
from posdomain.obs import log_event

log = logging.getLogger(__name__)
CLIENT_ID = "cfpos-hub-ingest"


class IngestLink(ABC):
    """One ingest worker's MQTT connection and presence (the subclass handles messages).

    Presence (docs/sync-protocol.md "Hub ingest presence"): the worker keeps a retained
    `IngestStatus` on `topics.hub_ingest_status(client_id)`: online once subscribed, an
    offline last will the broker publishes when the worker dies (SIGKILL, a lost link), and
    cleared (empty retained message) when it stops. A box does not count its ack waits while
    every worker it heard of is offline, so an absent hub is not taken for a lost batch. A
    partitioned worker's status names its partition: the other workers read it to take over
    its boxes while it is absent (hub/sync/takeover.py).
    """

    def __init__(
        self,
        host: str,
        port: int,
        client_id: str = CLIENT_ID,
        login: MqttLogin | None = None,
        shared_group: str | None = None,
        failover: Sequence[tuple[str, int]] = (),
        partition: Partition | None = None,
        partition_refresh: float = DEFAULT_REFRESH,
        partition_stale: float = DEFAULT_STALE,
    ) -> None:
        # the broker, then the other nodes of a cluster (CFPOS_MQTT_FAILOVER), tried in turn
        self.endpoints = EndpointRing([(host, port), *failover])
        self.shared_group = shared_group
        self.ready = threading.Event()
        self._stopping = threading.Event()  # stop(): the threads end, queued messages dropped
        self._resumed = False  # connected once in this run (an older session was checked)
        # the broker session's id: client_id plus a suffix a box cannot guess (hub.core.mqtt)
        self.session_id = session_id(client_id, login)
        if shared_group:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=self.session_id, protocol=mqtt.MQTTv5
            )
        else:
            self.client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self.session_id,
                clean_session=False,
                protocol=mqtt.MQTTv311,
            )
        apply_credentials(self.client, login)
        self.status_topic = topics.hub_ingest_status(client_id)
        part = spec(partition) if partition else None
        offline = encode(IngestStatus(worker=client_id, online=False, partition=part))
        self.client.will_set(self.status_topic, offline, qos=1, retain=True)
        self._online = encode(IngestStatus(worker=client_id, online=True, partition=part))
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        # CFPOS_INGEST_PARTITION: only the topics of the boxes this worker serves now
        self.partition = (
            PartitionFollower(
                partition,
                self.client,
                partition_refresh,
                worker_id=client_id,
                stale=partition_stale,
            )
            if partition
            else None
        )
        # link back -> first ack within NFR-003 5 s; jittered so workers do not move in step
        self.client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)  # type: ignore[arg-type]

    @abstractmethod
    def _on_message(self, client, _userdata, msg) -> None:  # type: ignore[no-untyped-def]
        """paho's message callback: the subclass takes messages in (hub/sync/worker.py)."""

    def _filters(self) -> list[str]:
        if self.partition is not None:
            return self.partition.filters()
        plain = [topics.ALL_BOX_EVENTS, topics.ALL_BOX_REQUESTS, topics.ALL_BOX_STATUS]
        if not self.shared_group:
            return plain
        return [topics.shared(f, self.shared_group) for f in plain]

    def _on_connect(self, client, _userdata, flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        log_event(log, "ingest connected", reason=str(reason_code), group=self.shared_group)
        if self.partition is not None:
            self.partition.connected()
        client.subscribe([(f, 1) for f in self._filters()])
        # a session of an earlier run of this worker: drop what it served then and not now
        earlier = self.partition is not None and flags.session_present and not self._resumed
        if earlier and self.partition is not None and (leftovers := self.partition.leftovers()):
            client.unsubscribe(leftovers)
        self._resumed = True

    def _on_disconnect(self, client, _userdata, _flags, reason_code, _props) -> None:  # type: ignore[no-untyped-def]
        log_event(log, "ingest disconnected", logging.WARNING, reason=str(reason_code))
        client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)
        if reason_code.is_failure:  # not our own disconnect(): the node may be gone
            self._fail_over()

    def _on_connect_fail(self, client, _userdata) -> None:  # type: ignore[no-untyped-def]
        client.reconnect_delay_set(reconnect_wait(), RECONNECT_MAX)
        self._fail_over()

    def _fail_over(self) -> None:
        """Point paho's next reconnect at the next broker endpoint (posdomain/failover.py);
        `connect_async` only records it, paho reconnects after its jittered wait."""
        if not self._stopping.is_set() and (moved := self.endpoints.advance()) is not None:
            self._connect(wait=False)
            log_event(log, "ingest failing over", logging.WARNING, host=moved[0], port=moved[1])

    def _on_subscribe(self, _client, _userdata, _mid, codes, _props) -> None:  # type: ignore[no-untyped-def]
        """Ready once every filter is granted. A refused one (SUBACK 0x80: e.g. a nats-server
        node whose JetStream timed out creating the subscription's consumer) is asked for
        again after a jittered wait: connected but not subscribed would take no batch ever."""
        if any(c.is_failure for c in codes):
            log_event(
                log,
                "ingest subscription refused; asking again",
                logging.WARNING,
                codes=[str(c) for c in codes],
            )
            timer = threading.Timer(reconnect_wait(), self._resubscribe)
            timer.daemon = True
            timer.start()
            return
        log_event(log, "ingest subscribed", codes=[str(c) for c in codes], group=self.shared_group)
        # present: boxes count their ack waits again (a batch the broker kept is coming)
        self.client.publish(self.status_topic, self._online, qos=1, retain=True)
        if self.partition is not None:
            self.partition.beating = True
        self.ready.set()

    def _resubscribe(self) -> None:
        # else on_connect does; a partition's filters may all have gone meanwhile
        connected = self.client.is_connected() and not self._stopping.is_set()
        if connected and (filters := self._filters()):
            self.client.subscribe([(f, 1) for f in filters])

    def _connect(self, *, wait: bool = True) -> None:
        """Connect (`wait=False`: in the background, retried until the broker answers)."""
        connect = self.client.connect if wait else self.client.connect_async
        host, port = self.endpoints.current
        if self.shared_group:  # the session ends with the connection: no queue for the dead
            connect(host, port, keepalive=30, clean_start=True)
        else:
            connect(host, port, keepalive=30)

    def _leave(self) -> None:
        """Clear this worker's retained status (it left on purpose), then disconnect: a clean
        DISCONNECT discards the last will, so the status must be cleared by hand."""
        if self.client.is_connected():
            info = self.client.publish(self.status_topic, b"", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError) as err:
                log_event(log, "status not cleared", logging.WARNING, error=str(err))
        self.client.disconnect()

    def leave(self) -> None:
        """Leave on purpose: no more partition refreshes, the status cleared, disconnected
        (what `stop` starts with; ends `run_forever` on SIGTERM, from a thread)."""
        self._stopping.set()
        if self.partition is not None:
            self.partition.stop()
        self._leave()

    def run_forever(self) -> None:
        """Connect and block (CLI); a broker not up yet is waited for, not a crash."""
        if self.partition is not None:
            self.partition.start()
        self._connect(wait=False)
        self.client.loop_forever(retry_first_connection=True)
