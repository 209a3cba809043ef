"""Signed pricing policies: signature, window, kind and params checks fail closed; ETag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from posdomain.canonical import canonical_json
from posdomain.errors import Reason
from posdomain.policy import (
    NO_POLICY_KEY,
    Policy,
    PolicyRejected,
    policy_etag,
    sign_policy,
    verify_policies,
    verify_policy,
)

pytestmark = pytest.mark.req("FR-301")

KEY = "tenant-policy-key"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def body(**changes: Any) -> dict[str, Any]:
    """A signed 3-for-2.00 multibuy policy body, with `changes` applied before signing."""
    raw: dict[str, Any] = {
        "policy_id": "mb-1",
        "policyVersion": 1,
        "effectiveFrom": "2024-01-01T00:00:00Z",
        "effectiveTo": "2025-01-01T00:00:00+00:00",
        "kind": "multibuy",
        "target": {"product_ids": ["p1"], "categories": []},
        "params": {"qty": 3, "price": "2.00"},
    }
    raw.update(changes)
    return {**raw, "signature": sign_policy(raw, KEY)}


def reason_of(raw: Any, now: datetime = NOW) -> Reason:
    """The rejection reason for a body."""
    with pytest.raises(PolicyRejected) as err:
        verify_policy(raw, KEY, now)
    return err.value.reason


def test_signed_policy_verifies_into_typed_params() -> None:
    verified = verify_policy(body(), KEY, NOW)
    assert (verified.policy_id, verified.policy_version, verified.kind) == ("mb-1", 1, "multibuy")
    assert verified.params.qty == 3
    assert str(verified.params.price) == "2.00"
    assert verified.target.matches("p1", None)
    assert not verified.target.matches("p2", "dairy")


def test_signature_is_hmac_over_canonical_json_without_signature() -> None:
    import hashlib
    import hmac

    raw = body()
    unsigned = {k: v for k, v in raw.items() if k != "signature"}
    expected = hmac.new(KEY.encode(), canonical_json(unsigned), hashlib.sha256).hexdigest()
    assert raw["signature"] == expected
    assert sign_policy(raw, KEY.encode()) == expected


def test_policy_dataclass_round_trips_and_signs() -> None:
    policy = Policy.from_wire(body())
    assert policy.to_wire() == body()
    resigned = Policy("x", 2, "2024-01-01T00:00:00Z", None, "percent",
                      {"categories": ["dairy"]}, {"percent": "10"}).signed(KEY)  # fmt: skip
    assert verify_policy(resigned, KEY, NOW).params.percent == 10
    with pytest.raises(PolicyRejected):
        Policy.from_wire({"policy_id": "x"})


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: {**b, "params": {"qty": 3, "price": "0.01"}},
        lambda b: {**b, "signature": "0" * 64},
        lambda b: {**b, "signature": ""},
        lambda b: {k: v for k, v in b.items() if k != "signature"},
        lambda b: {**b, "effectiveTo": None},
    ],
)
def test_tampered_or_unsigned_policy_is_unverifiable(tamper: Any) -> None:
    assert reason_of(tamper(body())) is Reason.POLICY_UNVERIFIABLE


def test_wrong_key_is_unverifiable() -> None:
    with pytest.raises(PolicyRejected) as err:
        verify_policy(body(), "other-key", NOW)
    assert err.value.reason is Reason.POLICY_UNVERIFIABLE


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "free_money"},
        {"params": {"qty": 1, "price": "2.00"}},
        {"params": {"qty": 3, "price": 2.0}},
        {"params": {"qty": 3, "price": "-1.00"}},
        {"params": {"qty": 3, "price": "2.00", "extra": 1}},
        {"params": {"qty": True, "price": "2.00"}},
        {"kind": "percent", "params": {"percent": "120"}},
        {"kind": "bxgy", "params": {"buy": 0, "get": 1}},
        {"target": {"product_ids": [], "categories": []}},
        {"target": {"product_ids": "p1"}},
        {"target": {"skus": ["x"]}},
        {"policyVersion": 0},
        {"policyVersion": "1"},
        {"policy_id": ""},
        {"effectiveFrom": "yesterday"},
        {"effectiveFrom": "2024-01-01T00:00:00"},
        {"effectiveTo": "2024-01-01T00:00:00Z"},
        {"effectiveTo": "2023-12-31T00:00:00Z"},
    ],
)
def test_malformed_policies_are_unverifiable_even_when_signed(changes: dict[str, Any]) -> None:
    assert reason_of(body(**changes)) is Reason.POLICY_UNVERIFIABLE


def test_window_is_half_open() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2025, 1, 1, tzinfo=UTC)
    assert verify_policy(body(), KEY, start).policy_id == "mb-1"
    assert reason_of(body(), start - timedelta(microseconds=1)) is Reason.POLICY_NOT_YET_EFFECTIVE
    assert reason_of(body(), end) is Reason.POLICY_EXPIRED
    assert (
        verify_policy(body(effectiveTo=None), KEY, end + timedelta(days=999)).effective_to is None
    )


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify_policy(body(), KEY, datetime(2024, 6, 1))


def test_verify_policies_splits_and_reports_rejections() -> None:
    good = body()
    bad = {**body(policy_id="mb-2"), "params": {"qty": 2, "price": "0.01"}}
    expired = body(policy_id="mb-3", effectiveTo="2024-02-01T00:00:00Z")
    verified, rejected = verify_policies([good, bad, expired, "junk"], KEY, NOW)  # type: ignore[list-item]
    assert [p.policy_id for p in verified] == ["mb-1"]
    assert [(r.policy_id, r.policy_version, r.reason) for r in rejected] == [
        ("mb-2", 1, Reason.POLICY_UNVERIFIABLE),
        ("mb-3", 1, Reason.POLICY_EXPIRED),
        ("", None, Reason.POLICY_UNVERIFIABLE),
    ]


def test_policy_etag_is_strong_and_content_addressed() -> None:
    etag = policy_etag([body()])
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert etag == policy_etag([dict(reversed(list(body().items())))])
    assert etag != policy_etag([body(policyVersion=2)])


def _empty_key_signed() -> dict[str, Any]:
    """A policy body whose signature is the HMAC with the empty key (what anyone can make)."""
    import hashlib
    import hmac

    raw = {k: v for k, v in body().items() if k != "signature"}
    return {**raw, "signature": hmac.new(b"", canonical_json(raw), hashlib.sha256).hexdigest()}


@pytest.mark.parametrize("key", [b"", ""])
def test_an_empty_key_verifies_nothing(key: bytes | str) -> None:
    """Issue 14: HMAC accepts an empty key, so a box without a key must not verify a policy
    signed with one. Refused with the stable POLICY_UNVERIFIABLE, before any other check."""
    for raw in (_empty_key_signed(), body(), {"kind": "nonsense"}):
        with pytest.raises(PolicyRejected) as err:
            verify_policy(raw, key, NOW)
        assert err.value.reason is Reason.POLICY_UNVERIFIABLE
        assert err.value.message == NO_POLICY_KEY
    verified, rejected = verify_policies([_empty_key_signed()], key, NOW)
    assert verified == []
    assert [(r.policy_id, r.policy_version, r.reason, r.message) for r in rejected] == [
        ("mb-1", 1, Reason.POLICY_UNVERIFIABLE, NO_POLICY_KEY)
    ]


@pytest.mark.parametrize("key", [b"", ""])
def test_no_policy_is_signed_with_an_empty_key(key: bytes | str) -> None:
    raw = {k: v for k, v in body().items() if k != "signature"}
    with pytest.raises(ValueError, match="empty key"):
        sign_policy(raw, key)
    assert len(sign_policy(raw, b"k")) == 64  # one byte is a key


# Mutation survivors (docs/mutation.md): the rejection message is what the audit record
# keeps (PolicyRejection.message), so each one must say what is wrong.


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"kind": "free_money"}, "unknown policy kind 'free_money'"),
     ({"params": {"qty": 1, "price": "2.00"}}, "params.qty must be an integer >= 2"),
     ({"params": {"qty": "3", "price": "2.00"}}, "params.qty must be an integer >= 2"),
     ({"params": {"qty": 3, "price": 2.0}}, "params.price must be a decimal string, not float"),
     ({"params": {"qty": 3, "price": "0.00"}}, "params.price must be positive"),
     ({"params": {"qty": 3}}, "multibuy params must have exactly ['price', 'qty']"),
     ({"kind": "mix_match", "params": {"qty": 2, "price": "x"}},
      "params.price is not a number: 'x'"),
     ({"kind": "percent", "params": {"percent": "100.01"}}, "params.percent must be at most 100"),
     ({"kind": "percent", "params": {"percent": "0"}}, "params.percent must be positive"),
     ({"kind": "amount", "params": {"amount": "-1"}}, "params.amount must be positive"),
     ({"kind": "amount", "params": []}, "amount params must have exactly ['amount']"),
     ({"kind": "bxgy", "params": {"buy": 0, "get": 1}}, "params.buy must be an integer >= 1"),
     ({"kind": "bxgy", "params": {"buy": 1, "get": 0}}, "params.get must be an integer >= 1"),
     ({"target": {"product_ids": [], "categories": []}}, "target names no product and no category"),
     ({"target": {"product_ids": "p1"}}, "target.product_ids must be a list of non-empty strings"),
     ({"target": {"categories": [""]}}, "target.categories must be a list of non-empty strings"),
     ({"target": {"skus": ["x"]}}, "target must be {product_ids, categories}"),
     ({"target": ["p1"]}, "target must be {product_ids, categories}"),
     ({"target": ["product_ids"]}, "target must be {product_ids, categories}"),
     ({"target": {"product_ids": [5]}}, "target.product_ids must be a list of non-empty strings"),
     ({"policyVersion": 0}, "policyVersion must be an integer >= 1"),
     ({"policy_id": ""}, "policy_id must be a non-empty string"),
     ({"policy_id": 7}, "policy_id must be a non-empty string"),
     ({"effectiveFrom": 20240101}, "effectiveFrom must be an ISO 8601 string"),
     ({"effectiveFrom": "yesterday"}, "effectiveFrom is not ISO 8601: 'yesterday'"),
     ({"effectiveTo": "2024-13-01"}, "effectiveTo is not ISO 8601: '2024-13-01'"),
     ({"effectiveFrom": "2024-01-01T00:00:00"}, "effectiveFrom must carry a time zone"),
     ({"effectiveTo": "2024-01-01T00:00:00Z"}, "effectiveTo must be after effectiveFrom")],
)  # fmt: skip
def test_each_rejection_says_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyRejected) as err:
        verify_policy(body(**changes), KEY, NOW)
    assert err.value.reason is Reason.POLICY_UNVERIFIABLE
    assert err.value.message == message


def test_signature_window_and_shape_messages() -> None:
    forged = {**body(), "signature": "0" * 64}
    _, rejected = verify_policies([forged], KEY, NOW)
    assert [r.message for r in rejected] == ["policy signature does not verify"]
    _, rejected = verify_policies([body()], "", NOW)
    assert [r.message for r in rejected] == [NO_POLICY_KEY]
    with pytest.raises(PolicyRejected) as err:
        verify_policy(body(), KEY, datetime(2023, 1, 1, tzinfo=UTC))
    assert err.value.message == "policy is not yet effective"
    with pytest.raises(PolicyRejected) as err:
        verify_policy(body(), KEY, datetime(2026, 1, 1, tzinfo=UTC))
    assert err.value.message == "policy has expired"
    with pytest.raises(PolicyRejected) as err:
        verify_policy(["not", "a", "policy"], KEY, NOW)  # type: ignore[arg-type]
    assert err.value.message == "policy must be a JSON object"
    with pytest.raises(PolicyRejected) as err:
        Policy.from_wire({"policy_id": "x"})
    assert err.value.message == "policy body must have exactly the CONTRACT keys"
    assert err.value.reason is Reason.POLICY_UNVERIFIABLE


def test_rejections_name_the_policy_they_could_read() -> None:
    unnamed = {k: v for k, v in body().items() if k != "policy_id"}
    odd_version = body(policyVersion="2")
    typed = Policy.from_wire(body(policy_id="mb-9", policyVersion=4, kind="nope"))
    _, rejected = verify_policies([unnamed, odd_version, typed], KEY, NOW)
    assert [(r.policy_id, r.policy_version) for r in rejected] == [
        ("", 1), ("mb-1", None), ("mb-9", 4),
    ]  # fmt: skip


def test_the_smallest_deals_and_a_full_percent_verify() -> None:
    two = verify_policy(body(params={"qty": 2, "price": "0.01"}), KEY, NOW)
    assert (two.params.qty, str(two.params.price)) == (2, "0.01")
    mix = verify_policy(body(kind="mix_match", params={"qty": 2, "price": "1.00"}), KEY, NOW)
    assert mix.params.qty == 2
    one = verify_policy(body(kind="bxgy", params={"buy": 1, "get": 1}), KEY, NOW)
    assert (one.params.buy, one.params.get) == (1, 1)
    full = verify_policy(body(kind="percent", params={"percent": "100"}), KEY, NOW)
    assert str(full.params.percent) == "100.00"
    cent = verify_policy(body(kind="amount", params={"amount": "0.01"}), KEY, NOW)
    assert str(cent.params.amount) == "0.01"


def test_programming_errors_say_exactly_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
        verify_policy(body(), KEY, datetime(2024, 6, 1))
    with pytest.raises(ValueError, match=r"^refusing to sign a policy with an empty key$"):
        sign_policy({"policy_id": "x"}, b"")


def test_times_are_read_strictly_utc_z_or_an_offset() -> None:
    assert verify_policy(body(effectiveFrom="2024-01-01T00:00:00Z"), KEY, NOW).effective_from == (
        datetime(2024, 1, 1, tzinfo=UTC)
    )
    # fail closed: a form Python's ISO reader does not take is refused, not guessed
    with pytest.raises(PolicyRejected) as err:
        verify_policy(body(effectiveFrom="2024-01-01T00:00:00z"), KEY, NOW)
    assert err.value.message == "effectiveFrom is not ISO 8601: '2024-01-01T00:00:00z'"
