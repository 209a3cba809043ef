"""Every MQTT topic name, in one place (docs/sync-protocol.md)."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "cfpos/v1"


def box_events(box_id: str) -> str:
    """Box → hub: event batches (QoS 1)."""
    return f"{PREFIX}/box/{box_id}/events"


def box_ack(box_id: str) -> str:
    """Hub → box: batch acks, sent after the hub's commit (QoS 1)."""
    return f"{PREFIX}/box/{box_id}/ack"


def box_flow(box_id: str) -> str:
    """Hub → box: flow signals (`BatchReceived`: a batch is queued or being applied), QoS 0,
    not retained; advisory, they only stretch the box's wait for the BatchAck."""
    return f"{PREFIX}/box/{box_id}/flow"


def box_down(box_id: str, kind: str) -> str:
    """Hub → box: versioned master data of one kind (retained, QoS 1)."""
    return f"{PREFIX}/box/{box_id}/down/{kind}"


def box_request(box_id: str) -> str:
    """Box → hub: requests such as catalog catch-up from a version (QoS 1)."""
    return f"{PREFIX}/box/{box_id}/req"


def box_reply(box_id: str) -> str:
    """Hub → box: the answer to a one-off request (customer search), not retained, QoS 1.

    It sits under `down/` so the box's existing broker ACL (`down/#`) already covers it."""
    return f"{PREFIX}/box/{box_id}/down/reply"


def box_status(box_id: str) -> str:
    """Box → hub: heartbeat and device status (retained; last will says offline)."""
    return f"{PREFIX}/box/{box_id}/status"


def hub_ingest_status(worker_id: str) -> str:
    """Hub ingest worker → boxes: its liveness (retained; `online` once subscribed, an
    `offline` last will the broker publishes when the worker dies), QoS 1. The hub's ingest
    is present while any worker's latest status says online (docs/sync-protocol.md "Hub
    ingest presence")."""
    return f"{PREFIX}/hub/ingest/{worker_segment(worker_id)}/status"


def hub_ingest_beat(worker_id: str) -> str:
    """Hub ingest worker → the other workers (never boxes): a partitioned worker's beat, QoS 0,
    not retained, every partition refresh; a worker whose beats stop is taken for gone even
    before the broker publishes its last will (hub/sync/takeover.py)."""
    return f"{PREFIX}/hub/ingest/{worker_segment(worker_id)}/beat"


def worker_segment(worker_id: str) -> str:
    """A worker id (its MQTT client id) as one topic level: no `/`, `+`, `#` (nor `.` or a
    space, which a NATS subject cannot carry)."""
    return "".join("_" if c in "/+#. " else c for c in worker_id) or "_"


def keyed_client_id(name: str, secret: str | None) -> str:
    """The MQTT client id a box or hub process connects with: its name, and on a broker with
    logins a suffix keyed by its own password (12 hex digits of HMAC-SHA256 of the name).

    Mosquitto's password and ACL files do not tie a client id to a username, so anyone's login
    connecting with a predictable id (`cfpos-box-<id>`, `cfpos-hub-ingest-p0of2`) took that
    client's session over: the broker dropped it and published its offline will. The suffix
    is stable across restarts (the persistent session is kept) and unknown to other logins;
    topics and logs keep the name.
    """
    if not secret:
        return name  # an anonymous dev broker: nothing to guard
    return f"{name}-{hmac.new(secret.encode(), name.encode(), hashlib.sha256).hexdigest()[:12]}"


ALL_HUB_INGEST_STATUS = f"{PREFIX}/hub/ingest/+/status"
ALL_HUB_INGEST_BEATS = f"{PREFIX}/hub/ingest/+/beat"
ALL_BOX_EVENTS = f"{PREFIX}/box/+/events"
ALL_BOX_STATUS = f"{PREFIX}/box/+/status"
ALL_BOX_REQUESTS = f"{PREFIX}/box/+/req"
SHARE_GROUP = "cfpos-ingest"  # the ingest workers' MQTT 5 shared-subscription group


def shared(topic_filter: str, group: str = SHARE_GROUP) -> str:
    """The shared-subscription form of a filter: each message goes to one group member."""
    return f"$share/{group}/{topic_filter}"


def box_id_from_topic(topic: str) -> str | None:
    """The box id segment of a box topic, or None if the topic is not a box topic."""
    parts = topic.split("/")
    if len(parts) >= 4 and f"{parts[0]}/{parts[1]}" == PREFIX and parts[2] == "box":
        return parts[3] or None
    return None


def hub_worker_from_topic(topic: str, kind: str = "status") -> str | None:
    """The worker segment of a hub ingest status topic (`kind="beat"`: of a beat topic), or
    None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 6 and "/".join(parts[:4]) == f"{PREFIX}/hub/ingest" and parts[5] == kind:
        return parts[4] or None
    return None
