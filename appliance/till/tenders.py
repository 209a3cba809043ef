"""Split tender (FR-300, NFR-005): cash plus external card terminal payments.

* `card` is an external terminal: the till keeps only the terminal's reference/auth code,
  never a card number (a reference that looks like a PAN is refused); the card total never
  exceeds what is left to pay (CARD_EXCEEDS_REMAINING).
* Cash pays the remainder; cash rounding (config `tax.cash_rounding`) applies to the cash
  remainder only, and change comes only from cash.
* Any other tender kind is 400 UNKNOWN_TENDER.
* An exchange whose net is zero or negative pays out (`settle_payout`): money back in cash,
  rounded like cash (the request says cash with 0 tendered), or to a card (one card tender of
  exactly the amount back with the terminal's refund reference, not rounded); no change;
  zero: no tender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_money, quantum
from posdomain.tax import TaxConfig, cash_rounding_adjustment
from posdomain.till_codes import TenderKind

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_PAN_LIKE = re.compile(r"^\d{12,19}$")


@dataclass(frozen=True)
class TenderIn:
    """One requested tender as the API received it."""

    kind: str
    amount: str
    reference: str | None = None


@dataclass(frozen=True)
class Settlement:
    """How a total is paid: wire tenders, the cash-rounding line, change and what was due."""

    tenders: tuple[dict[str, Any], ...]
    card_total: Decimal
    cash_tendered: Decimal
    cash_rounding: Decimal
    change: Decimal
    payable: Decimal

    @property
    def card_reference(self) -> str | None:
        """The terminal reference(s) of the card tenders, comma separated."""
        refs = [str(t["reference"]) for t in self.tenders if t["kind"] == TenderKind.CARD]
        return ",".join(refs) or None


def tender_kind(kind: str) -> TenderKind:
    """A known tender kind, else 400 UNKNOWN_TENDER."""
    try:
        return TenderKind(kind)
    except ValueError as err:
        raise ValidationError(
            f"unknown tender {kind!r}",
            Reason.UNKNOWN_TENDER,
            {"allowed": [k.value for k in TenderKind]},
        ) from err


def card_reference(reference: str | None) -> str:
    """A terminal reference/auth code; card numbers are refused (NFR-005)."""
    ref = (reference or "").strip()
    if not _REFERENCE.match(ref) or _PAN_LIKE.match(ref.replace("-", "")):
        raise ValidationError(
            "a card payment needs the terminal reference (never the card number)",
            Reason.VALIDATION_FAILED,
            {"field": "reference"},
        )
    return ref


def _split(requested: list[TenderIn], exponent: int) -> tuple[list[dict[str, Any]], Decimal]:
    cards, cash = [], Decimal(0)
    if not requested:
        raise ValidationError("at least one tender is required", Reason.VALIDATION_FAILED)
    for item in requested:
        kind = tender_kind(item.kind)
        amount = parse_money(item.amount, exponent, "amount")
        if amount < 0 or (amount == 0 and kind is not TenderKind.CASH):
            raise ValidationError("tender amounts must be positive", Reason.INVALID_MONEY)
        if kind is TenderKind.CARD:
            cards.append(
                {"kind": "card", "amount": amount, "reference": card_reference(item.reference)}
            )
        else:
            cash += amount
    return cards, cash


def check_tenders(requested: list[TenderIn], exponent: int) -> None:
    """Validate kinds, amounts and card references without settling (400 on any problem)."""
    _split(requested, exponent)


def settle(total: Decimal, requested: list[TenderIn], cfg: TaxConfig) -> Settlement:
    """Check and settle the tenders for a document total (before cash rounding)."""
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    cards, cash = _split(requested, cfg.exponent)
    card_total = sum((c["amount"] for c in cards), zero)
    if card_total > total:
        raise ValidationError(
            f"card amount {card_total} exceeds the {total} left to pay",
            Reason.CARD_EXCEEDS_REMAINING,
            {"remaining": str(total), "card": str(card_total)},
        )
    remaining = total - card_total
    rounding = cash_rounding_adjustment(remaining, cfg) if remaining > 0 else zero
    if cash > 0 and remaining == 0:
        raise ValidationError("nothing is left to pay in cash", Reason.VALIDATION_FAILED)
    if cash < remaining + rounding:
        raise ValidationError(
            f"tendered {cash} is less than the {remaining + rounding} left to pay",
            Reason.INSUFFICIENT_TENDER,
            {"payable": str(remaining + rounding), "tendered": str(cash)},
        )
    wire = [{**c, "amount": str(c["amount"])} for c in cards]
    if cash > 0:
        wire.append({"kind": "cash", "amount": str(cash)})
    return Settlement(
        tenders=tuple(wire),
        card_total=card_total,
        cash_tendered=cash,
        cash_rounding=rounding,
        change=cash - remaining - rounding if cash > 0 else zero,
        payable=total + rounding,
    )


def settle_payout(total: Decimal, requested: list[TenderIn], cfg: TaxConfig) -> Settlement:
    """Settle a net total <= 0 (an exchange giving money back), no change either way:

    * in cash (the request tenders 0 in cash): a negative cash tender of the pay-out rounded
      like cash;
    * to a card (one card tender of exactly the amount back, with the terminal's refund
      reference, no cash): a negative card tender, no cash rounding (cash rounding applies to
      cash only). Anything else is VALIDATION_FAILED with the amount back.
    """
    zero = Decimal(0).quantize(quantum(cfg.exponent))
    back = -total
    cards, cash = _split(requested, cfg.exponent)
    if cards:
        if len(cards) != 1 or cash != 0 or cards[0]["amount"] != back:
            raise ValidationError(
                f"the customer gets {back} back: one card refund of exactly {back}, no cash",
                Reason.VALIDATION_FAILED,
                {"payable": str(total), "field": "tenders"},
            )
        card = {**cards[0], "amount": str(total)}
        return Settlement(
            tenders=(card,),
            card_total=total,
            cash_tendered=zero,
            cash_rounding=zero,
            change=zero,
            payable=total,
        )
    if cash != 0:
        raise ValidationError(
            f"the customer gets {back} back in cash: tender 0 in cash",
            Reason.VALIDATION_FAILED,
            {"payable": str(total), "field": "tenders"},
        )
    rounding = -cash_rounding_adjustment(back, cfg) if back > 0 else zero
    payable = total + rounding
    wire = [{"kind": "cash", "amount": str(payable)}] if payable else []
    return Settlement(
        tenders=tuple(wire),
        card_total=zero,
        cash_tendered=payable,
        cash_rounding=rounding,
        change=zero,
        payable=payable,
    )
