"""Signed pricing policies: HMAC signature, validity window and params checks (FR-301).

A policy executes only after `verify_policy` returns a `VerifiedPolicy` (fail closed): a bad
or missing signature, an unknown kind, malformed params or target, or a window that is empty
or does not contain `now` rejects it with a reason the caller audits. The signature is hex
HMAC-SHA256 over `canonical_json(policy without "signature")`, computed over the wire body
exactly as received. The window is half-open: effectiveFrom <= now < effectiveTo.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from posdomain.canonical import canonical_json
from posdomain.errors import HubReason, PosError, Reason, ValidationError
from posdomain.money import parse_money

POLICY_KINDS = ("multibuy", "percent", "amount", "bxgy", "mix_match")
_PARAM_KEYS = {
    "multibuy": {"qty", "price"},
    "mix_match": {"qty", "price"},
    "percent": {"percent"},
    "amount": {"amount"},
    "bxgy": {"buy", "get"},
}


class PolicyRejected(ValidationError):
    """A policy that must not execute; `reason` says why (POLICY_* reason codes)."""

    default_reason = Reason.POLICY_UNVERIFIABLE


_WIRE_KEYS = frozenset(
    {"policy_id", "policyVersion", "effectiveFrom", "effectiveTo", "kind", "target", "params"}
)


@dataclass(frozen=True)
class Policy:
    """A pricing policy in its CONTRACT wire shape (values exactly as signed)."""

    policy_id: str
    policy_version: int
    effective_from: str
    effective_to: str | None
    kind: str
    target: Mapping[str, Any]
    params: Mapping[str, Any]
    signature: str = ""

    def unsigned(self) -> dict[str, Any]:
        """The wire body without `signature` (what the signature covers)."""
        return {
            "policy_id": self.policy_id,
            "policyVersion": self.policy_version,
            "effectiveFrom": self.effective_from,
            "effectiveTo": self.effective_to,
            "kind": self.kind,
            "target": dict(self.target),
            "params": dict(self.params),
        }

    def to_wire(self) -> dict[str, Any]:
        """The full wire body, signature included."""
        return {**self.unsigned(), "signature": self.signature}

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> Policy:
        """Wrap a wire body (PolicyRejected if keys are missing or extra; values unchecked)."""
        if not isinstance(body, Mapping) or set(body) != _WIRE_KEYS | {"signature"}:
            raise PolicyRejected("policy body must have exactly the CONTRACT keys")
        return cls(
            body["policy_id"], body["policyVersion"], body["effectiveFrom"],
            body["effectiveTo"], body["kind"], body["target"], body["params"],
            body["signature"],
        )  # fmt: skip

    def signed(self, key: bytes | str) -> Policy:
        """A copy carrying the signature for `key` (the hub signs, boxes verify)."""
        return replace(self, signature=sign_policy(self.unsigned(), key))


@dataclass(frozen=True)
class PolicyTarget:
    """What a policy applies to: any listed product id or any product in a listed category."""

    product_ids: frozenset[str]
    categories: frozenset[str]

    def matches(self, product_id: str, category: str | None) -> bool:
        """True if the product is targeted by id or category."""
        return product_id in self.product_ids or (
            category is not None and category in self.categories
        )


@dataclass(frozen=True)
class PolicyParams:
    """Typed params; only the fields of the policy's kind are set."""

    qty: int = 0
    price: Decimal = Decimal(0)
    percent: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    buy: int = 0
    get: int = 0


@dataclass(frozen=True)
class VerifiedPolicy:
    """A policy whose signature, params and window verified at `verified_at`."""

    policy_id: str
    policy_version: int
    kind: str
    target: PolicyTarget
    params: PolicyParams
    effective_from: datetime
    effective_to: datetime | None


@dataclass(frozen=True)
class PolicyRejection:
    """Why one policy did not execute (for the caller's audit record)."""

    policy_id: str
    policy_version: int | None
    reason: Reason | HubReason
    message: str


def _key_bytes(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


NO_POLICY_KEY = "no policy key: a policy is never verified against an empty key"


def sign_policy(body: Mapping[str, Any], key: bytes | str) -> str:
    """Hex HMAC-SHA256 over the canonical JSON of the policy body without `signature`.

    An empty key is refused (ValueError): HMAC accepts one, and anything signed with it would
    verify wherever no key is configured."""
    if not key:
        raise ValueError("refusing to sign a policy with an empty key")
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return hmac.new(_key_bytes(key), canonical_json(unsigned), hashlib.sha256).hexdigest()


def _reject(message: str, reason: Reason = Reason.POLICY_UNVERIFIABLE) -> PolicyRejected:
    return PolicyRejected(message, reason)


def _parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise _reject(f"{field} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise _reject(f"{field} is not ISO 8601: {value!r}") from err
    if parsed.tzinfo is None:
        raise _reject(f"{field} must carry a time zone")
    return parsed


def _positive_int(value: object, field: str, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise _reject(f"params.{field} must be an integer >= {minimum}")
    return value


def _positive_money(value: object, field: str) -> Decimal:
    try:
        amount = parse_money(value, field=f"params.{field}")
    except PosError as err:
        raise _reject(err.message) from err
    if amount <= 0:
        raise _reject(f"params.{field} must be positive")
    return amount


def _parse_params(kind: str, raw: object) -> PolicyParams:
    if not isinstance(raw, Mapping) or set(raw) != _PARAM_KEYS[kind]:
        raise _reject(f"{kind} params must have exactly {sorted(_PARAM_KEYS[kind])}")
    if kind in ("multibuy", "mix_match"):
        return PolicyParams(
            qty=_positive_int(raw["qty"], "qty", 2), price=_positive_money(raw["price"], "price")
        )
    if kind == "amount":
        return PolicyParams(amount=_positive_money(raw["amount"], "amount"))
    if kind == "bxgy":
        return PolicyParams(
            buy=_positive_int(raw["buy"], "buy", 1), get=_positive_int(raw["get"], "get", 1)
        )
    percent = _positive_money(raw["percent"], "percent")
    if percent > 100:
        raise _reject("params.percent must be at most 100")
    return PolicyParams(percent=percent)


def _string_set(raw: Mapping[str, Any], field: str) -> frozenset[str]:
    values = raw.get(field, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise _reject(f"target.{field} must be a list of non-empty strings")
    return frozenset(values)


def _parse_target(raw: object) -> PolicyTarget:
    if not isinstance(raw, Mapping) or not set(raw) <= {"product_ids", "categories"}:
        raise _reject("target must be {product_ids, categories}")
    target = PolicyTarget(_string_set(raw, "product_ids"), _string_set(raw, "categories"))
    if not target.product_ids and not target.categories:
        raise _reject("target names no product and no category")
    return target


def _check_signature(body: Mapping[str, Any], key: bytes | str) -> None:
    if not key:  # fail closed: no key configured verifies nothing (issue 14)
        raise _reject(NO_POLICY_KEY)
    signature = body.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature.lower(), sign_policy(body, key)
    ):
        raise _reject("policy signature does not verify")


def _parse(body: Mapping[str, Any]) -> VerifiedPolicy:
    policy_id, version, kind = body.get("policy_id"), body.get("policyVersion"), body.get("kind")
    if not isinstance(policy_id, str) or not policy_id:
        raise _reject("policy_id must be a non-empty string")
    if type(version) is not int or version < 1:
        raise _reject("policyVersion must be an integer >= 1")
    if kind not in POLICY_KINDS:
        raise _reject(f"unknown policy kind {kind!r}")
    start = _parse_time(body.get("effectiveFrom"), "effectiveFrom")
    raw_end = body.get("effectiveTo")
    end = None if raw_end is None else _parse_time(raw_end, "effectiveTo")
    if end is not None and end <= start:
        raise _reject("effectiveTo must be after effectiveFrom")
    return VerifiedPolicy(
        policy_id, version, str(kind), _parse_target(body.get("target")),
        _parse_params(str(kind), body.get("params")), start, end,
    )  # fmt: skip


def verify_policy(
    policy: Policy | Mapping[str, Any], key: bytes | str, now: datetime
) -> VerifiedPolicy:
    """Verify signature, shape and window of one policy, or raise PolicyRejected."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    body = policy.to_wire() if isinstance(policy, Policy) else policy
    if not isinstance(body, Mapping):
        raise _reject("policy must be a JSON object")
    _check_signature(body, key)
    verified = _parse(body)
    if now < verified.effective_from:
        raise _reject("policy is not yet effective", Reason.POLICY_NOT_YET_EFFECTIVE)
    if verified.effective_to is not None and now >= verified.effective_to:
        raise _reject("policy has expired", Reason.POLICY_EXPIRED)
    return verified


def _identity(body: object) -> tuple[str, int | None]:
    if isinstance(body, Policy):
        body = body.to_wire()
    if not isinstance(body, Mapping):
        return "", None
    version = body.get("policyVersion")
    return str(body.get("policy_id", "")), version if type(version) is int else None


def verify_policies(
    bodies: Iterable[Policy | Mapping[str, Any]], key: bytes | str, now: datetime
) -> tuple[list[VerifiedPolicy], list[PolicyRejection]]:
    """Split wire policies into verified ones and audited rejections (never raises for one)."""
    verified: list[VerifiedPolicy] = []
    rejected: list[PolicyRejection] = []
    for body in bodies:
        try:
            verified.append(verify_policy(body, key, now))
        except PolicyRejected as err:
            policy_id, version = _identity(body)
            rejected.append(PolicyRejection(policy_id, version, err.reason, err.message))
    return verified, rejected


def policy_etag(policies: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> str:
    """Strong ETag (quoted SHA-256 of the canonical JSON) of a policy preview representation."""
    return '"' + hashlib.sha256(canonical_json(policies)).hexdigest() + '"'
