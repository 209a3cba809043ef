"""Down-message bodies as the hub sends them (CONTRACT), parsed once at the edge.

A newer hub may add fields: every body ignores what it does not know, so an older box keeps
applying what it understands. A body that does not match is 400 MALFORMED_MESSAGE with the
offending fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic import ValidationError as PydanticValidationError

from posdomain.contract import field_details
from posdomain.errors import Reason, ValidationError


class MessageBody(BaseModel):
    """Base of every down-message body (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore")


B = TypeVar("B", bound=BaseModel)

# What SQLite can store: an integer past 2**63 - 1 passed the model and raised OverflowError
# at the insert, mid-chunk (FR-200: refused as the message it is, nothing applied)
MAX_VERSION = 2**63 - 1
MAX_AGE = 255  # the hub's own rule is 1..99 (hub/catalog/rules.py); a newer hub may widen it


def parse_body(model: type[B], body: dict[str, Any]) -> B:
    """Validate a down-message body (400 MALFORMED_MESSAGE naming the fields)."""
    try:
        return model.model_validate(body)
    except PydanticValidationError as err:
        raise ValidationError(
            "down message body does not match the schema",
            Reason.MALFORMED_MESSAGE,
            field_details(err),
        ) from err


class TillRules(MessageBody):
    """The `till` key of the `config` body: store policy for the tills of a tenant/branch.

    `drawer_counting` (default true): every sale needs a shift a cashier opened with a counted
    float. False (stores that do not count drawers): the box opens a day shift per till at the
    first sale of the business day, and the day's Z closes it.
    """

    drawer_counting: StrictBool = True


def till_rules(config: dict[str, Any]) -> TillRules:
    """The till rules of a `config` body (defaults when absent; 400 MALFORMED_MESSAGE)."""
    raw = config.get("till")
    if raw is None:
        return TillRules()
    if not isinstance(raw, dict):
        raise ValidationError("config.till must be an object", Reason.MALFORMED_MESSAGE)
    return parse_body(TillRules, raw)


class StaffEntry(MessageBody):
    """One staff member as the hub sends it."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    role: str
    pin_hash: str = Field(min_length=10)
    active: bool = True
    branch_ids: list[str] = []
    badge_digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class StaffBody(MessageBody):
    """Body of a `staff` down message: the full list."""

    staff: list[StaffEntry]


PolicyName = Annotated[str, Field(min_length=1, max_length=80)]


class PricingBody(MessageBody):
    """Body of a `pricing` down message (policies are verified when used, fail closed);
    `names`: optional display names by policy_id (what cashier and receipt show)."""

    policies: list[dict[str, Any]] = []
    flags: dict[str, Any] = {}
    names: dict[Annotated[str, Field(max_length=64)], PolicyName] = Field(
        default_factory=dict, max_length=5000
    )


class WireTier(MessageBody):
    """A wholesale tier on the wire."""

    min_qty: str
    price: str


class WireProduct(MessageBody):
    """A product in a catalog chunk (CONTRACT "Product on the wire"; newer fields ignored)."""

    id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    barcodes: list[str] = []
    category: str | None = None
    tax_class: str
    unit: Literal["each", "weight"] = "each"
    price: str
    wholesale_tiers: list[WireTier] = []
    age_restriction: int | None = Field(default=None, ge=0, le=MAX_AGE)
    deposit_product_id: str | None = None
    is_deposit: bool = False
    active: bool = True
    version: int = Field(default=0, ge=0, le=MAX_VERSION)
    min_price: str | None = None
    cost: str | None = None


class CatalogHead(MessageBody):
    """The retained catalog head: the tenant's current catalog version."""

    head: Literal[True]
    version: int = Field(ge=0, le=MAX_VERSION)


class CatalogChunk(MessageBody):
    """One catch-up chunk: products changed in (from_version, to_version]; `window_to` (a
    newer hub): where the answer this chunk belongs to ends (its last chunk's to_version)."""

    head: Literal[False]
    from_version: int = Field(ge=0, le=MAX_VERSION)
    to_version: int = Field(ge=1, le=MAX_VERSION)
    products: list[WireProduct] = Field(max_length=5000)
    last: bool
    window_to: int | None = Field(default=None, ge=1, le=MAX_VERSION)
