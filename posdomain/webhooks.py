"""Webhook signatures in the Standard Webhooks style, the one place that signs and verifies.

The signed content is ``{id}.{timestamp}.{raw body}`` (the raw bytes sent, never a
re-serialised JSON: PITFALLS "verify webhook signatures over the raw body"). Headers:

* ``webhook-id``: unique per message, stable across retries (receivers deduplicate on it)
* ``webhook-timestamp``: integer seconds since the epoch
* ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` entries; during a
  secret rotation the sender signs with every active secret and a receiver accepts any.

Secrets are ``whsec_`` + base64 of at least 24 random bytes. Alerting (FR-501) uses this
today; the integrations issue (FR-P7-1010) reuses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
TOLERANCE_S = 5 * 60
ID_HEADER, TS_HEADER, SIG_HEADER = "webhook-id", "webhook-timestamp", "webhook-signature"


class SignatureError(ValueError):
    """A webhook whose signature, timestamp or headers do not verify."""


def new_secret() -> str:
    """A fresh signing secret (``whsec_`` + base64 of 32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise SignatureError("webhook secret must start with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as err:
        raise SignatureError("webhook secret is not base64") from err
    if len(key) < 24:
        raise SignatureError("webhook secret is shorter than 24 bytes")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``id.timestamp.body``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(
    secrets_in_use: Iterable[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three webhook headers for a body, signed with every secret in use."""
    ts = int(time.time()) if timestamp is None else timestamp
    sigs = " ".join(signature(s, msg_id, ts, body) for s in secrets_in_use)
    if not sigs:
        raise SignatureError("no signing secret")
    return {ID_HEADER: msg_id, TS_HEADER: str(ts), SIG_HEADER: sigs}


def verify(
    secrets_in_use: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    now: int | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check a received webhook; return its id or raise SignatureError."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, ts_text, sent = (lower.get(h, "") for h in (ID_HEADER, TS_HEADER, SIG_HEADER))
    if not (msg_id and ts_text and sent):
        raise SignatureError("missing webhook headers")
    try:
        ts = int(ts_text)
    except ValueError as err:
        raise SignatureError("webhook timestamp is not an integer") from err
    current = int(time.time()) if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError("webhook timestamp outside the tolerance")
    offered = [p for p in sent.split(" ") if p.startswith("v1,")]
    for secret in secrets_in_use:
        expected = signature(secret, msg_id, ts, body)
        if any(hmac.compare_digest(expected, o) for o in offered):
            return msg_id
    raise SignatureError("no webhook signature matches")
