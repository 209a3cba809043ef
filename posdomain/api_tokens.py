"""The shape of an integration API token (FR-P7-1009): a type prefix and a checksum.

``cfpit_<30 base62 characters of randomness><6 base62 characters of CRC32>``, like the
tokens of GitHub or Stripe: a secret scanner (or a human reading a log) recognises a leaked
token by the prefix, and the checksum tells a real token from a random string that happens
to start with it without asking the hub. The checksum proves nothing about validity: only
the hub's stored SHA-256 does. Tokens issued before this format (``cfp_`` + urlsafe base64)
still resolve; they are recognised by their prefix only.
"""

from __future__ import annotations

import secrets
import string
import zlib

PREFIX = "cfpit_"
LEGACY_PREFIX = "cfp_"
ALPHABET = string.digits + string.ascii_letters  # base62
RANDOM_LEN = 30  # 30 base62 chars = 178 bits
CHECK_LEN = 6  # 62**6 > 2**32: any CRC32 fits


def _base62(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(ALPHABET[digit])
    return "".join(reversed(out))


def checksum(body: str) -> str:
    """The six base62 characters of the CRC32 of `body`."""
    return _base62(zlib.crc32(body.encode("ascii")), CHECK_LEN)


def new_token() -> str:
    """A fresh token: prefix, randomness, checksum."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LEN))
    return PREFIX + body + checksum(body)


def well_formed(raw: str) -> bool:
    """True if `raw` has this format and its checksum matches (or is a legacy token)."""
    if raw.startswith(LEGACY_PREFIX):
        return 10 <= len(raw) <= 100
    if not raw.startswith(PREFIX) or len(raw) != len(PREFIX) + RANDOM_LEN + CHECK_LEN:
        return False
    rest = raw.removeprefix(PREFIX)
    if any(c not in ALPHABET for c in rest):
        return False
    body, check = rest[:RANDOM_LEN], rest[RANDOM_LEN:]
    return checksum(body) == check


def redact(raw: str) -> str:
    """What a log may show of a token: its prefix and last four characters."""
    prefix = PREFIX if raw.startswith(PREFIX) else raw[:4]
    return f"{prefix}…{raw[-4:]}" if len(raw) > 12 else "…"
