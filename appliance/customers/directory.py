"""The card directory the till holds (FR-400 offline attach): head, chunked catch-up, lookup.

* The retained head `{head: true, version: V}` records the hub's version; a head below the
  held version means the hub restored from a backup: the box reloads the directory (held = 0).
* A chunk `{head: false, from_version, to_version, cards, last}` is applied in one transaction
  only if `from_version <= held < to_version` (an empty "unchanged" answer with
  from = to = held is fine too); entries upsert by customer id, `card: null` drops the mapping,
  a card moved to another customer leaves the old one without it.
* An entry that arrives with a version above the one this box held when the hub acked one of
  its redemptions was built after that sale was booked: the redemption is settled (the balance
  in the entry already has it), so the usable balance stops subtracting it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from appliance.audit import log as audit_log
from appliance.catalog.config_docs import store_body, stored_version
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.customers.models import LoyaltyCard, Redemption
from appliance.customers.wire import CardEntry, CardsChunk, CardsHead
from appliance.sync.box_state import held_versions, set_held_version
from appliance.sync.models import Outbox
from posdomain.audit_chain import Severity
from posdomain.customer_fields import normalize_card
from posdomain.errors import NotFound, Reason
from posdomain.obs import log_event

log = logging.getLogger(__name__)
KIND = "cards"


def cards_held() -> int:
    """The directory version this box holds."""
    return held_versions().get(KIND, 0)


def cards_target() -> int:
    """The directory version the hub last announced (0 before any head)."""
    return stored_version(KIND)


def cards_behind() -> bool:
    """True while the box holds an older directory than the hub announced."""
    return cards_held() < cards_target()


def apply_head(ctx: BoxContext, head: CardsHead) -> bool:
    """Remember the hub's directory version; True if it changed (below held: reload all)."""
    with write_txn():
        if head.version == cards_target():
            return False
        held = cards_held()
        if head.version < held:
            set_held_version(KIND, 0)
            audit_log.append(
                ctx,
                actor="hub",
                action="down.cards.reset",
                target=KIND,
                severity=Severity.WARN,
                details={"head": head.version, "held": held},
            )
        store_body(KIND, head.version, head.model_dump())
    return True


def _upsert(entry: CardEntry, now: str) -> None:
    if entry.card is not None:  # a card handed to another customer leaves the old holder
        LoyaltyCard.update(card=None).where(
            LoyaltyCard.card == entry.card, LoyaltyCard.customer_id != entry.customer_id
        ).execute()
    LoyaltyCard.insert(
        customer_id=entry.customer_id,
        card=entry.card,
        display_name=entry.display_name,
        tier=entry.tier,
        balance=entry.balance,
        active=int(entry.active),
        version=entry.version,
        source="hub",
        received_at=now,
    ).on_conflict_replace().execute()
    Redemption.update(settled=1).where(
        Redemption.customer_id == entry.customer_id,
        Redemption.settled == 0,
        Redemption.acked_version.is_null(False),
        Redemption.acked_version < entry.version,
    ).execute()


def upsert_entries(entries: Sequence[CardEntry]) -> None:
    """Insert or replace directory entries (caller's transaction), settling redemptions."""
    now = now_iso()
    for entry in entries:
        _upsert(entry, now)


def apply_chunk(ctx: BoxContext, chunk: CardsChunk) -> bool:
    """Apply one catch-up chunk in one transaction if it continues what the box holds."""
    with write_txn():
        held = cards_held()
        unchanged = chunk.from_version == chunk.to_version == held and not chunk.cards
        if unchanged or not chunk.from_version <= held < chunk.to_version:
            return False
        upsert_entries(chunk.cards)
        set_held_version(KIND, chunk.to_version)
        audit_log.append(
            ctx,
            actor="hub",
            action="down.cards.applied",
            target=KIND,
            details={"version": chunk.to_version, "previous": held, "cards": len(chunk.cards)},
        )
    log_event(log, "card chunk applied", to_version=chunk.to_version, cards=len(chunk.cards))
    return True


def find_card(text: str) -> LoyaltyCard:
    """The active customer holding a scanned or typed card (INVALID_CARD, UNKNOWN_CARD)."""
    card = normalize_card(text)
    row = LoyaltyCard.get_or_none(LoyaltyCard.card == card)
    if row is None or not row.active:
        raise NotFound("this loyalty card is not known", Reason.UNKNOWN_CARD)
    return row


def find_customer(customer_id: str) -> LoyaltyCard | None:
    """The directory row of a customer id, if the box has one."""
    return LoyaltyCard.get_or_none(LoyaltyCard.customer_id == customer_id)


def card_tail(card: str | None) -> str | None:
    """What screen and receipt show of a card: its last four digits."""
    return None if not card else f"…{card[-4:]}"


def note_acked() -> int:
    """After a hub ack: remember, for each newly acked redemption, the customer's directory
    version at that moment (a later entry above it reflects the redemption)."""
    acked = Outbox.select(Outbox.event_id).where(Outbox.acked_at.is_null(False))
    rows = list(
        Redemption.select().where(
            Redemption.acked_version.is_null(), Redemption.event_id.in_(acked)
        )
    )
    for r in rows:
        card = find_customer(r.customer_id)
        Redemption.update(acked_version=int(card.version) if card else 0).where(
            Redemption.sale_id == r.sale_id
        ).execute()
    return len(rows)
