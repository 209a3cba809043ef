"""Standard Webhooks signing (FR-501, FR-P7-1010): id.timestamp.body, rotation, tolerance."""

from __future__ import annotations

import pytest

from posdomain.webhooks import SignatureError, new_secret, sign_headers, verify

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
