"""Quarantine: an unusable MQTT message is stored with its reason code, never applied."""

from __future__ import annotations

import logging

from hub.core.db import db
from hub.sync.models import Quarantine
from posdomain.errors import PosError
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def quarantine(topic: str, raw: bytes, err: PosError, box_id: str | None) -> None:
    """Store an unusable message with its reason code (not tenant-scoped) and log it."""
    with db.atomic():
        Quarantine.create(
            topic=topic, box_id=box_id, payload=raw, reason=str(err.reason), error=err.message
        )
    log_event(
        log,
        "message quarantined",
        logging.WARNING,
        topic=topic,
        reason=str(err.reason),
        error=err.message,
        box_id=box_id,
    )
