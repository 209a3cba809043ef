"""After a hub restore: ask every box to resend what the restored hub no longer has (NFR-004).

The restored database holds each box's `last_contiguous_seq` as of the backup: the hub's
high-water mark. Events above it may have been acked by the hub that was lost, so the box
no longer sends them by itself. `record_restore` (run by `python -m hub restore`) stores one
`box_resend_requests` row per box with that mark and bumps the `resend` down kind; each box
then gets a retained `resend` DownMessage (body: `posdomain.contract.ResendRequest`) and
republishes its kept events above `after_seq`. The hub deduplicates on event id, so a box
that resends more than needed loses and doubles nothing.

Down-message versions restored from the backup are behind what the boxes already applied,
and a box ignores a version it has seen: `record_restore` therefore moves every tenant's
down versions forward by RESTORE_VERSION_JUMP (more changes than that inside the RPO window
are not possible in practice), so the next publish is taken by every box.
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.core.db import platform_tx
from hub.core.models import utcnow
from hub.governance import versions
from hub.governance.models import DownState
from hub.identity.models import Box
from hub.sync.models import BoxResendRequest
from posdomain.contract import DownKind, ResendRequest

RESTORE_VERSION_JUMP = 1000


def record_restore(reason: str = "hub_restore") -> dict[str, Any]:
    """Store the restored high-water mark of every box and bump versions (platform tx)."""
    restore_id, now = uuid.uuid4().hex, utcnow()
    with platform_tx():
        boxes = list(Box.select())
        for box in boxes:
            BoxResendRequest.create(
                restore_id=restore_id,
                tenant_id=box.tenant_id,
                box_id=box.box_id,
                after_seq=box.last_contiguous_seq,
                restored_at=now,
            )
        DownState.update(version=DownState.version + RESTORE_VERSION_JUMP).execute()
        for tenant_id in sorted({b.tenant_id for b in boxes}):
            versions.bump(tenant_id, DownKind.RESEND.value)
    marks = {b.box_id: b.last_contiguous_seq for b in boxes}
    return {
        "restore_id": restore_id,
        "restored_at": now.isoformat(),
        "reason": reason,
        "high_water": marks,
    }


def resend_body(box: Box) -> dict[str, Any]:
    """The `resend` body for a box: the newest restore's mark (caller's tenant transaction)."""
    row = (
        BoxResendRequest.select()
        .where(BoxResendRequest.box_id == box.box_id)
        .order_by(BoxResendRequest.restored_at.desc())
        .first()
    )
    if row is None:  # enrolled after the restore: nothing to resend
        after, restore_id, at = box.last_contiguous_seq, "none", utcnow().isoformat()
    else:
        after, restore_id, at = row.after_seq, row.restore_id, row.restored_at.isoformat()
    return ResendRequest(restore_id=restore_id, after_seq=after, restored_at=at).model_dump()
