"""Enrol a customer at the till (FR-400): a card handed out, offline too.

The box makes the customer id (uuid4), keeps the customer in its directory at once (so the
card works on this till before the hub knows it) and queues `customer.enrolled` in the same
transaction as its audit entry. No phone or e-mail at the till (minimal PII); consent flags
start off and are set in the portal.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from appliance.audit import log as audit_log
from appliance.core.context import BoxContext, now_iso
from appliance.core.db import write_txn
from appliance.customers.models import LoyaltyCard
from appliance.identity.models import Staff
from appliance.sync import outbox
from posdomain.contract import EventType
from posdomain.customer_fields import normalize_card
from posdomain.errors import Conflict, Reason, ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(text: str) -> str:
    """A customer's display name: 1-60 characters, no control characters."""
    name = " ".join(text.split())
    if _CONTROL.search(text):
        raise ValidationError("the name holds a control character", Reason.INVALID_TEXT)
    if not 1 <= len(name) <= 60:
        raise ValidationError("a name is 1 to 60 characters", Reason.VALIDATION_FAILED)
    return name


def enrol(
    ctx: BoxContext, staff: Staff, card_text: str, name_text: str, correlation_id: str
) -> dict[str, Any]:
    """Create a customer with a new card on this box and queue its `customer.enrolled`."""
    ctx.require_chain_intact()
    card, name = normalize_card(card_text), display_name(name_text)
    customer_id = str(uuid.uuid4())
    with write_txn():
        if LoyaltyCard.get_or_none(LoyaltyCard.card == card) is not None:
            raise Conflict("this card already belongs to a customer", Reason.CARD_TAKEN)
        now = now_iso()
        LoyaltyCard.insert(
            customer_id=customer_id,
            card=card,
            display_name=name,
            balance=0,
            active=1,
            version=0,
            source="box",
            received_at=now,
        ).execute()
        payload = {
            "customer_id": customer_id,
            "card": card,
            "display_name": name,
            "enrolled_at": now,
            "enrolled_by": staff.id,
            "consent_marketing": False,
            "consent_email_receipts": False,
        }
        envelope = outbox.enqueue(ctx, EventType.CUSTOMER_ENROLLED, payload, correlation_id)
        audit_log.append(
            ctx,
            actor=f"staff:{staff.id}",
            action="customer.enrolled",
            target=f"customer:{customer_id}",
            details={"card_tail": card[-4:], "event_id": str(envelope.event_id)},
        )
    return {"customer_id": customer_id, "card": card, "display_name": name}
