"""What the box asks the hub for besides sending events (CONTRACT "Catalog sync"): catalog
and card-directory catch-up (asked again after `catalog_timeout` without a chunk; the next
catalog window asked for ahead as the first chunk of one lands) and the till's customer
searches; the down messages and replies that answer them are applied here too.

A mixin of `SyncAgent` (appliance.sync.agent): it runs on the agent's thread, with its
transport, settings and context.
"""

from __future__ import annotations

import logging
import time
import uuid

from appliance.catalog import catch_up, down_messages
from appliance.core.context import BoxContext
from appliance.core.db import write_txn
from appliance.customers import directory, search
from appliance.sync.agent_settings import AgentSettings
from appliance.sync.transport import Transport
from posdomain import topics
from posdomain.envelope import BoxReply, BoxRequest, DownMessage, decode, encode
from posdomain.obs import log_event

log = logging.getLogger(__name__)


class HubRequests:
    """Catch-up and search requests of one box's sync agent, and their answers."""

    ctx: BoxContext
    box_id: str
    transport: Transport
    settings: AgentSettings
    _catalog_asked_at: float | None  # last request or chunk, monotonic
    # the window asked for ahead (since_version) while the one before it is staged
    _catalog_ahead: int | None
    _cards_asked_at: float | None

    def _init_requests(self) -> None:
        self._catalog_asked_at = None
        self._catalog_ahead = None
        self._cards_asked_at = None

    def catch_up_catalog(self) -> bool:
        """Ask the hub for catalog chunks from the held version if behind; True if asked.

        Asks again when no chunk arrived for `catalog_timeout` (a lost or out-of-order chunk,
        a hub restart): each applied chunk is committed, so the new request resumes there.
        """
        if not catch_up.catalog_behind():
            self._catalog_asked_at = None
            return False
        now = time.monotonic()
        asked = self._catalog_asked_at
        if asked is not None and now - asked < self.settings.catalog_timeout:
            return False
        self._catalog_ahead = None  # asked afresh: an earlier ask-ahead is spent
        self._ask_catalog(catch_up.catalog_resume_from())  # after the last staged chunk
        self._catalog_asked_at = now
        return True

    def _ask_catalog(self, since_version: int, *, ahead: bool = False) -> None:
        request = BoxRequest(
            box_id=self.box_id,
            kind="catalog",
            since_version=since_version,
            request_id=uuid.uuid4(),
        )
        self.transport.publish(topics.box_request(self.box_id), encode(request), qos=1)
        log_event(
            log,
            "catalog catch-up requested",
            since_version=request.since_version,
            target=catch_up.catalog_target(),
            ahead=ahead,
            request_id=str(request.request_id),
        )

    def _ask_catalog_ahead(self, window_to: object) -> None:
        """A chunk of an answer that ends below the head landed: ask for the window after it
        now (once), so the hub builds it while this one is staged (CONTRACT "Catalog sync")."""
        if not isinstance(window_to, int) or isinstance(window_to, bool):
            return  # an older hub: the next window is asked for when this one ends
        if self._catalog_ahead == window_to or window_to >= catch_up.catalog_target():
            return
        if window_to <= catch_up.catalog_resume_from():
            return
        self._catalog_ahead = window_to
        self._ask_catalog(window_to, ahead=True)

    def catch_up_cards(self) -> bool:
        """Ask for card-directory changes from the held version: at once when a head says the
        box is behind, again after `catalog_timeout` without a chunk, and every `cards_poll`
        seconds (ingest moves balances without publishing a head); True if asked."""
        now = time.monotonic()
        asked = self._cards_asked_at
        wait = (
            self.settings.catalog_timeout if directory.cards_behind() else self.settings.cards_poll
        )
        if asked is not None and now - asked < wait:
            return False
        request = BoxRequest(
            box_id=self.box_id,
            kind="cards",
            since_version=directory.cards_held(),
            request_id=uuid.uuid4(),
        )
        self.transport.publish(topics.box_request(self.box_id), encode(request), qos=1)
        self._cards_asked_at = now
        return True

    def send_searches(self) -> int:
        """Publish the till's waiting customer searches (the web app waits for the reply)."""
        sent = 0
        for row in search.pending():
            request = BoxRequest(
                box_id=self.box_id,
                kind="customer_search",
                query=row.query,
                request_id=uuid.UUID(row.request_id),
            )
            self.transport.publish(topics.box_request(self.box_id), encode(request), qos=1)
            with write_txn():
                search.mark_sent(row.request_id)
            sent += 1
        return sent

    def _down(self, msg: DownMessage) -> None:
        """Apply a down message; a catalog or card chunk counts as catch-up progress."""
        applied = down_messages.apply_down(self.ctx, msg)
        chunk = msg.body.get("head") is False
        if msg.kind == "catalog" and chunk and applied:
            if not msg.body.get("last"):
                self._catalog_asked_at = time.monotonic()
                self._ask_catalog_ahead(msg.body.get("window_to"))
            elif self._catalog_ahead == catch_up.catalog_resume_from():
                self._catalog_asked_at = time.monotonic()  # the next window is on its way
            else:
                self._catalog_asked_at = None  # the answer ended: anything newer at once
        if msg.kind == "cards" and (applied or not chunk):
            done = not chunk or (msg.body.get("last") and directory.cards_behind())
            self._cards_asked_at = None if done else time.monotonic()

    def _reply(self, payload: bytes) -> None:
        """Keep the hub's answer to a till search for the web request waiting on it."""
        reply = decode(payload, BoxReply)
        with write_txn():
            search.store_reply(str(reply.request_id), reply.body)
