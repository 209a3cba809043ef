"""A tiny JSON-over-HTTP client (stdlib only, so a fresh box needs nothing extra).

Tests pass their own `HttpClient` (e.g. one backed by Flask's test client): the protocol
is one method, so the same provisioning code runs against a real or an in-process hub.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any, Protocol

TIMEOUT_S = 20.0


class HubUnreachable(Exception):
    """The hub did not answer (network down, wrong URL, TLS problem)."""


class HttpClient(Protocol):
    """POST JSON, get (status, decoded JSON body)."""

    def post_json(
        self, url: str, body: dict[str, Any], basic_auth: tuple[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Send `body`; return the status and the JSON answer ({} when not JSON)."""


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class UrllibClient:
    """The production client: urllib with a timeout and a correlation-friendly user agent."""

    def post_json(
        self, url: str, body: dict[str, Any], basic_auth: tuple[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST JSON with urllib; HTTP errors are returned, network errors raise HubUnreachable."""
        if not url.startswith(("http://", "https://")):
            raise HubUnreachable(f"{url}: the hub URL must start with http:// or https://")
        headers = {"Content-Type": "application/json", "User-Agent": "cfpos-provisioning/1"}
        if basic_auth:
            token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310
                return int(resp.status), _decode(resp.read())
        except urllib.error.HTTPError as err:
            return int(err.code), _decode(err.read())
        except (urllib.error.URLError, OSError) as err:
            raise HubUnreachable(f"cannot reach the hub at {url}: {err}") from err
