"""Applied down-message bodies as stored in config_doc (read side, no dependencies)."""

from __future__ import annotations

import json
from typing import Any

from appliance.models import ConfigDoc
from posdomain.errors import Reason, ValidationError


def config_body(kind: str) -> dict[str, Any] | None:
    """The applied body of a kind, if any."""
    doc = ConfigDoc.get_or_none(ConfigDoc.kind == kind)
    return None if doc is None else dict(json.loads(doc.body))


def exponent_of(body: dict[str, Any]) -> int:
    """The currency exponent of a config body (2 when the hub sends none)."""
    exponent = body.get("exponent")
    if exponent is None:
        return 2
    if not isinstance(exponent, int) or isinstance(exponent, bool) or not 0 <= exponent <= 4:
        raise ValidationError("config.exponent must be an integer 0..4", Reason.MALFORMED_MESSAGE)
    return exponent


def current_exponent() -> int:
    """Currency exponent from the applied config (2 until a config arrives)."""
    body = config_body("config")
    return 2 if body is None else exponent_of(body)
