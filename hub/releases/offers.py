"""The release offer to a box and its files over MQTT (FR-703; docs/releases.md "The offer").

* The `release` down message (retained, one per box, built by `hub.sync.downlink`) names
  what the box should install: the rollout, the artifact, its checksum (sha256 of
  `manifest.json`) and every file with size and sha256 (from the stored manifest). A box
  that is not in a running rollout, or already reported on it, gets `{"artifact": null}`.
* The box fetches the files with `BoxRequest(kind="release_chunk")` from a byte offset, one
  chunk per request, so an interrupted download resumes where its files end. Every request
  is also the box's check-in (`rollouts.check_in` with its running release and whether a
  shift is open): a box with an open shift, or one no longer offered this artifact, gets a
  refusal instead of bytes.
The box trusts nothing before `posdomain.releases.verify_artifact` and the checksum match.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from hub.core.db import tenant_tx
from hub.identity.models import Box
from hub.releases.models import Artifact, Rollout, RolloutBox
from hub.releases.rollouts import RUNNING, check_in
from posdomain.envelope import BoxReply, BoxRequest, utcnow
from posdomain.releases import MANIFEST, SUMS

CHUNK_BYTES = 96 * 1024  # base64 in a JSON reply stays well below the 256 KiB message limit
OFFERED = ("PENDING", "OFFERED", "DEFERRED")


def _files(artifact: Artifact) -> list[dict[str, Any]]:
    """Every file of the artifact; manifest and SHA256SUMS are pinned by the checksum."""
    wheels = [
        {"file": w["file"], "size": int(w["size"]), "sha256": w["sha256"]}
        for w in artifact.manifest.get("wheels", [])
    ]
    return [*wheels, *({"file": n, "size": None, "sha256": None} for n in (MANIFEST, SUMS))]


def down_body(box: Box) -> dict[str, Any]:
    """Body of the box's `release` down message (caller's tenant transaction)."""
    for row in Rollout.select().where(
        Rollout.tenant_id == box.tenant_id, Rollout.state.in_(RUNNING)
    ):
        member = RolloutBox.get_or_none(
            RolloutBox.rollout_id == row.id, RolloutBox.box_id == box.box_id
        )
        if member is None or member.state not in OFFERED:
            continue
        artifact = Artifact.get_or_none(Artifact.name == row.artifact)
        if artifact is None or artifact.pruned_at is not None:
            continue
        return {
            "rollout_id": row.id,
            "artifact": artifact.name,
            "checksum": artifact.checksum,
            "files": _files(artifact),
            "chunk_bytes": CHUNK_BYTES,
        }
    return {"artifact": None}


def _reply(request: BoxRequest, body: dict[str, Any]) -> BoxReply:
    return BoxReply(
        request_id=request.request_id, kind="release_chunk", issued_at=utcnow(), body=body
    )


def chunk_reply(box: Box, request: BoxRequest, store: Path | None) -> BoxReply:
    """One chunk of a file of the artifact offered to this box, or a refusal with a reason."""
    head = {"artifact": request.artifact, "file": request.file, "offset": request.since_version}
    offer = check_in(box, request.running, request.shift_open)
    if request.shift_open:
        return _reply(request, {**head, "refused": "SHIFT_OPEN"})
    if offer is None or offer["artifact"] != request.artifact or store is None:
        return _reply(request, {**head, "refused": "NOT_OFFERED"})
    with tenant_tx(box.tenant_id):
        artifact = Artifact.get(Artifact.name == request.artifact)
        names = {f["file"] for f in _files(artifact)}
    if request.file not in names:
        return _reply(request, {**head, "refused": "NOT_OFFERED"})
    path = store / artifact.name / str(request.file)
    if not path.is_file():  # pruned, or a store that lost it: the box stops, nothing served
        return _reply(request, {**head, "refused": "NOT_AVAILABLE"})
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(request.since_version)
        data = fh.read(CHUNK_BYTES)
    end = request.since_version + len(data)
    return _reply(
        request,
        {**head, "data": base64.b64encode(data).decode("ascii"), "eof": end >= size, "size": size},
    )
