"""Fixed enums of till operations: what an override approves, why, and paid-out reasons.

Shared by the box (which records them) and the hub (which stores them from events); stable
values, never renamed (reports and support key on them).
"""

from __future__ import annotations

from enum import StrEnum


class OverrideAction(StrEnum):
    """What a supervisor override approves (one action per token)."""

    PRICE_OVERRIDE = "price_override"
    DISCOUNT = "discount"
    REFUND = "refund"
    REFUND_NO_RECEIPT = "refund_no_receipt"
    POST_VOID = "post_void"
    NO_SALE = "no_sale"
    BANK_DEPOSIT = "bank_deposit"  # cash taken from the drawer or safe to the bank


class OverrideReason(StrEnum):
    """Why it was approved (REP-T-12/13 group by these)."""

    PRICE_MATCH = "PRICE_MATCH"
    DAMAGED_GOODS = "DAMAGED_GOODS"
    DEFECTIVE = "DEFECTIVE"
    WRONG_ITEM = "WRONG_ITEM"
    CUSTOMER_CHANGED_MIND = "CUSTOMER_CHANGED_MIND"
    CUSTOMER_SATISFACTION = "CUSTOMER_SATISFACTION"
    CASHIER_ERROR = "CASHIER_ERROR"
    STAFF_DISCOUNT = "STAFF_DISCOUNT"
    CHANGE_REQUEST = "CHANGE_REQUEST"
    TILL_CHECK = "TILL_CHECK"
    BANK_DEPOSIT = "BANK_DEPOSIT"  # the day's takings (or part of them) go to the bank
    OTHER = "OTHER"


class PaidOutReason(StrEnum):
    """Why cash left the drawer other than as change or a refund."""

    SUPPLIER_PAYMENT = "SUPPLIER_PAYMENT"
    PETTY_CASH = "PETTY_CASH"
    DEPOSIT_RETURN = "DEPOSIT_RETURN"
    OTHER = "OTHER"


class TenderKind(StrEnum):
    """Tenders the till accepts; card is an external terminal (only its reference is kept)."""

    CASH = "cash"
    CARD = "card"


#: loyalty points paid as a tender (docs/CONTRACT.md "Loyalty"): written by the till's own
#: redemption flow with the loyalty facts, never chosen as a tender kind in a cashier request
POINTS_TENDER = "points"


#: roles that may approve an override at the till (of the box's branch)
APPROVER_ROLES = frozenset({"SUPERVISOR", "BRANCH_MANAGER"})
#: actions only a branch manager may approve ("without receipt only with manager approval")
MANAGER_ONLY = frozenset({OverrideAction.REFUND_NO_RECEIPT})


class LoyaltyAdjustReason(StrEnum):
    """Why a manager changed a customer's points by hand (FR-401; never renamed)."""

    GOODWILL = "GOODWILL"
    CORRECTION = "CORRECTION"
    OVER_REDEMPTION = "OVER_REDEMPTION"  # settling a reconciliation item
    MISSED_EARN = "MISSED_EARN"
    MIGRATION = "MIGRATION"
    FRAUD = "FRAUD"
    OTHER = "OTHER"


LOYALTY_ADJUST_REASONS = frozenset(r.value for r in LoyaltyAdjustReason)
