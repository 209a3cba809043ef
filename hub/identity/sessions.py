"""Ending a user's hub sessions (FR-102 "a deactivated user cannot authenticate at the hub at
once").

Today's portal sessions are signed cookies: nothing about them is stored on the hub, and
every request re-reads the user (`auth.load_user_principal`), so an inactive user is refused
on their very next request and a changed role applies there too. `revoke_sessions_of` is the
one place a deactivation calls; when sessions move to server-side storage it deletes that
user's rows here, and every caller keeps working unchanged.
"""

from __future__ import annotations

import logging

from posdomain.obs import log_event

log = logging.getLogger(__name__)


def revoke_sessions_of(user_id: str) -> int:
    """End every hub session of a user; return how many stored sessions were removed.

    Signed-cookie sessions hold no server-side state, so 0 is removed today; the user's next
    request with such a cookie is refused because the user is re-read on every request.
    """
    log_event(log, "sessions revoked", user_id=user_id, removed=0)
    return 0
