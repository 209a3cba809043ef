"""Customer and staff identifiers both sides check the same way (FR-400, FR-102): loyalty card
barcodes, phone numbers, e-mail addresses, staff badges."""

from __future__ import annotations

import hashlib
import re
import secrets

from posdomain.barcodes import check_digit
from posdomain.errors import Reason, ValidationError

_PHONE_NOISE = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$"
)
_BADGE = re.compile(r"^[A-Z0-9-]{6,32}$")
CARD_PREFIX = "29"  # GS1 in-store range: never a product GTIN bought from a supplier


def normalize_card(text: str) -> str:
    """A loyalty card barcode: 8 to 20 digits ending in a valid GS1 check digit."""
    card = text.strip()
    if not card.isdigit() or not 8 <= len(card) <= 20 or check_digit(card[:-1]) != card[-1]:
        raise ValidationError(
            "a loyalty card is 8-20 digits with a valid check digit", Reason.INVALID_CARD
        )
    return card


def new_card(prefix: str = CARD_PREFIX) -> str:
    """A random EAN-13 loyalty card number in the in-store range."""
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(12 - len(prefix)))
    return body + check_digit(body)


def normalize_phone(text: str) -> str:
    """Digits with an optional leading +, spaces/dashes/brackets removed (6-15 digits)."""
    phone = _PHONE_NOISE.sub("", text.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _PHONE.match(phone):
        raise ValidationError(
            "a phone number is 6-15 digits, optionally with a leading +", Reason.INVALID_PHONE
        )
    return phone


def normalize_email(text: str) -> str:
    """An e-mail address, lower-cased (no display names, no spaces)."""
    email = text.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationError("not an e-mail address", Reason.INVALID_EMAIL)
    return email


def normalize_badge(text: str) -> str:
    """A staff badge barcode: 6-32 letters, digits or dashes, upper-cased."""
    badge = text.strip().upper()
    if not _BADGE.match(badge):
        raise ValidationError("a badge is 6-32 letters, digits or dashes", Reason.INVALID_BADGE)
    return badge


def badge_digest(tenant_id: str, badge: str) -> str:
    """What hub and box store of a badge: hex SHA-256 of `<tenant_id>:<badge>`."""
    return hashlib.sha256(f"{tenant_id}:{normalize_badge(badge)}".encode()).hexdigest()


def new_badge() -> str:
    """A random 13-digit badge (EAN-13 shaped, prefix 99 so it is never a card or product)."""
    body = "99" + "".join(secrets.choice("0123456789") for _ in range(10))
    return body + check_digit(body)
