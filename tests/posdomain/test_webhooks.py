"""Standard Webhooks signing (FR-501, FR-P7-1010): id.timestamp.body, rotation, tolerance."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

import pytest

from posdomain.webhooks import SignatureError, new_secret, sign_headers, signature, verify

BODY = b'{"a":1}'


@pytest.mark.req("FR-501")
def test_signature_verifies_over_the_raw_body_only() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_1", BODY, timestamp=1_700_000_000)
    assert verify([secret], headers, BODY, now=1_700_000_010) == "msg_1"
    with pytest.raises(SignatureError):
        verify([secret], headers, b'{"a": 1}', now=1_700_000_010)  # re-serialised: refused
    with pytest.raises(SignatureError):
        verify([new_secret()], headers, BODY, now=1_700_000_010)


@pytest.mark.req("FR-501")
def test_rotation_tolerance_and_missing_headers() -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers([old, new], "msg_2", BODY, timestamp=1_000)
    assert verify([new], headers, BODY, now=1_000) == "msg_2"
    assert verify([old], headers, BODY, now=1_000) == "msg_2"
    with pytest.raises(SignatureError, match="tolerance"):
        verify([new], headers, BODY, now=1_000 + 301)
    with pytest.raises(SignatureError, match="missing"):
        verify([new], {}, BODY)
    with pytest.raises(SignatureError):
        sign_headers(["not-a-secret"], "m", BODY)


def _secret(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_a_new_secret_is_32_random_bytes_in_base64() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert secret != new_secret()


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    # the receiver's side of the contract: what any Standard Webhooks verifier computes
    key = bytes(range(32))
    expected = hmac.new(key, b"msg_1.1700000000." + BODY, hashlib.sha256).digest()
    assert signature(_secret(key), "msg_1", 1_700_000_000, BODY) == (
        "v1," + base64.b64encode(expected).decode()
    )


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_secrets_are_refused_with_the_reason() -> None:
    cases = {
        "sk_" + base64.b64encode(bytes(32)).decode(): "webhook secret must start with whsec_",
        "whsec_not*base64": "webhook secret is not base64",
        # a non-base64 character inside valid base64 is refused, not skipped over
        "whsec_" + base64.b64encode(bytes(32)).decode()[:8] + "*"
        + base64.b64encode(bytes(32)).decode()[8:]: "webhook secret is not base64",
        _secret(bytes(23)): "webhook secret is shorter than 24 bytes",
    }  # fmt: skip
    for secret, message in cases.items():
        with pytest.raises(SignatureError, match=f"^{re.escape(message)}$"):
            signature(secret, "m", 1, BODY)
    assert signature(_secret(bytes(24)), "m", 1, BODY).startswith("v1,")  # 24 bytes suffice
    with pytest.raises(SignatureError, match=r"^no signing secret$"):
        sign_headers([], "m", BODY, timestamp=1)


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_headers_carry_the_current_time_unless_one_is_given() -> None:
    secret = new_secret()
    before = int(time.time())
    headers = sign_headers([secret], "msg_3", BODY)
    assert before <= int(headers["webhook-timestamp"]) <= int(time.time())
    assert verify([secret], headers, BODY) == "msg_3"  # now defaults to the current time
    stale = sign_headers([secret], "msg_4", BODY, timestamp=before - 301)
    with pytest.raises(SignatureError, match="tolerance"):
        verify([secret], stale, BODY)


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_each_missing_header_and_a_bad_timestamp_are_refused_by_name() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_5", BODY, timestamp=1_000)
    for name in headers:
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(SignatureError, match=r"^missing webhook headers$"):
            verify([secret], partial, BODY, now=1_000)
        with pytest.raises(SignatureError, match=r"^missing webhook headers$"):
            verify([secret], {**partial, name: ""}, BODY, now=1_000)
    upper = {k.upper(): v for k, v in headers.items()}  # header names are case-insensitive
    assert verify([secret], upper, BODY, now=1_000) == "msg_5"
    with pytest.raises(SignatureError, match=r"^webhook timestamp is not an integer$"):
        verify([secret], {**headers, "webhook-timestamp": "1e3"}, BODY, now=1_000)


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_the_tolerance_is_inclusive_both_ways() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_6", BODY, timestamp=10_000)
    assert verify([secret], headers, BODY, now=10_300) == "msg_6"
    assert verify([secret], headers, BODY, now=9_700) == "msg_6"
    for now in (10_301, 9_699):
        with pytest.raises(SignatureError, match=r"^webhook timestamp outside the tolerance$"):
            verify([secret], headers, BODY, now=now)
    assert verify([secret], headers, BODY, now=10_060, tolerance_s=60) == "msg_6"
    with pytest.raises(SignatureError, match="tolerance"):
        verify([secret], headers, BODY, now=10_061, tolerance_s=60)


@pytest.mark.req("FR-501", "FR-P7-1010")
def test_signatures_are_a_space_separated_list_of_v1_entries() -> None:
    secret, other = new_secret(), new_secret()
    mine = signature(secret, "msg_7", 1_000, BODY)
    theirs = signature(other, "msg_7", 1_000, BODY)
    base = {"webhook-id": "msg_7", "webhook-timestamp": "1000"}
    for sent in (f"{theirs} {mine}", f"v2,abc {mine}", f"{theirs}  {mine}"):
        assert verify([secret], {**base, "webhook-signature": sent}, BODY, now=1_000) == "msg_7"
    # only a single space separates entries (the Standard Webhooks format): no other blank
    for sent in (f"{theirs}\t{mine}", f"{mine}\n", mine.removeprefix("v1,")):
        with pytest.raises(SignatureError, match=r"^no webhook signature matches$"):
            verify([secret], {**base, "webhook-signature": sent}, BODY, now=1_000)
