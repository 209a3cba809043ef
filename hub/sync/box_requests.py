"""Box → hub requests (BoxRequest on `cfpos/v1/box/{id}/req`): catalog and card-directory
catch-up answered with versioned chunks, customer search (online only) answered with one
BoxReply on `down/reply`; a bad or forged request is quarantined and answered with nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel

from hub.catalog.chunks import chunk_messages
from hub.core.db import platform_tx
from hub.customers import directory
from hub.customers.till_search import search_reply
from hub.identity.models import Box
from hub.releases import offers
from hub.sync.quarantine import quarantine
from posdomain import topics
from posdomain.envelope import BoxRequest, decode
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def requesting_box(request: BoxRequest, topic_box_id: str | None) -> Box:
    """The enrolled box a request came from, after the identity checks (else ValidationError)."""
    if topic_box_id is None or request.box_id != topic_box_id:
        raise ValidationError("request box_id does not match the topic", Reason.BOX_MISMATCH)
    with platform_tx():
        box = Box.get_or_none(Box.box_id == topic_box_id)
    if box is None:
        raise ValidationError(f"unknown box {topic_box_id}", Reason.UNKNOWN_BOX)
    if box.status != "active":
        raise ValidationError(f"box {topic_box_id} is not enrolled", Reason.BOX_NOT_ENROLLED)
    return box


def _answer(
    box: Box, request: BoxRequest, releases_dir: Path | None
) -> list[tuple[str, BaseModel | bytes]]:
    if request.kind == "release_chunk":
        return [(topics.box_reply(box.box_id), offers.chunk_reply(box, request, releases_dir))]
    if request.kind == "cards":
        return list(directory.chunk_messages(box, request.since_version))
    if request.kind == "customer_search":
        return [search_reply(box, request)]
    return list(chunk_messages(box, request.since_version))


def handle_request(
    topic: str, raw: bytes, releases_dir: Path | None = None
) -> list[tuple[str, BaseModel | bytes]]:
    """Answer one box request (chunks or a reply); quarantine it (and answer nothing) if bad.
    Catalog chunks come as their wire bytes (encoded once, `hub.catalog.chunks`), the rest as
    messages to `encode`.

    `releases_dir` is the hub's artifact store (release files are served from it)."""
    topic_box_id = topics.box_id_from_topic(topic)
    try:
        request = decode(raw, BoxRequest)
        box = requesting_box(request, topic_box_id)
        replies = _answer(box, request, releases_dir)
    except PosError as err:
        quarantine(topic, raw, err, topic_box_id)
        return []
    log_event(
        log,
        "box request answered",
        kind=request.kind,
        box_id=box.box_id,
        since_version=request.since_version,
        chunks=len(replies),
        request_id=str(request.request_id),
    )
    return replies
