"""What the ingest worker's network thread makes of a message before any parse: the batch id
at its head (for flow signals), a digest of its events (a resend of the same outbox rows),
and the `Received` item queued for the apply or side thread."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

BATCH_ID_HEAD = re.compile(rb'^\s*\{\s*"batch_id"\s*:\s*"([0-9a-fA-F-]{36})"')


def head_batch_id(raw: bytes) -> uuid.UUID | None:
    """The batch id at the head of a box's canonical batch (sorted keys: `batch_id` comes
    first), read without parsing the message; None if it is not there (no flow signal)."""
    found = BATCH_ID_HEAD.match(raw[:128])
    if found is None:
        return None
    try:
        return uuid.UUID(found.group(1).decode())
    except ValueError:
        return None


def events_key(topic: str, raw: bytes) -> tuple[str, bytes] | None:
    """(topic, digest of the events part) of a canonical batch: two batches with the same key
    carry exactly the same events (a resend of the same outbox rows), whatever their batch
    ids and send times; None for a message not in canonical shape."""
    start, end = raw.find(b',"events":['), raw.rfind(b'],"sent_at":')
    if start < 0 or end <= start:
        return None
    return topic, hashlib.sha256(raw[start:end]).digest()


@dataclass(frozen=True)
class Received:
    """One message taken off the broker, waiting for the worker's apply thread."""

    topic: str
    payload: bytes
    retained: bool
    batch_id: uuid.UUID | None
    key: tuple[str, bytes] | None = None  # events_key
    number: int = 0  # arrival number on this worker
