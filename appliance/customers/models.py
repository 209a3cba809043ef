"""Tables of the customers area: the synced card directory, till searches, redemptions.

The schema lives in the numbered migrations (appliance/migrations/); these models must
equal it (tests/appliance/core/test_models_match_migrations.py).
"""

from __future__ import annotations

from peewee import IntegerField, TextField

from appliance.core.models import BaseModel


class LoyaltyCard(BaseModel):
    """One customer as the till knows it (no e-mail, no phone); balance as of `version`."""

    customer_id = TextField(primary_key=True)
    card = TextField(null=True, unique=True)
    display_name = TextField()
    tier = TextField(null=True)
    balance = IntegerField(default=0)
    active = IntegerField(default=1)
    version = IntegerField(default=0)
    source = TextField(default="hub")
    received_at = TextField()

    class Meta:
        table_name = "loyalty_cards"


class CustomerSearch(BaseModel):
    """A name/phone search the web app asked; the sync agent sends it and stores the reply."""

    request_id = TextField(primary_key=True)
    query = TextField()
    asked_at = TextField()
    sent_at = TextField(null=True)
    answered_at = TextField(null=True)
    reply = TextField(null=True)

    class Meta:
        table_name = "customer_searches"


class Redemption(BaseModel):
    """Points this box redeemed on a sale; unsettled until the hub's directory reflects it."""

    sale_id = TextField(primary_key=True)
    customer_id = TextField()
    points = IntegerField()
    offline = IntegerField()
    redeemed_at = TextField()
    event_id = TextField()
    acked_version = IntegerField(null=True)
    settled = IntegerField(default=0)

    class Meta:
        table_name = "loyalty_redemptions"
        indexes = ((("customer_id", "settled"), False),)


class BasketRedemption(BaseModel):
    """Points the cashier chose to redeem on an open basket (checked again at payment)."""

    basket_key = TextField(primary_key=True)
    customer_id = TextField()
    points = IntegerField()
    created_at = TextField()

    class Meta:
        table_name = "basket_redemptions"
