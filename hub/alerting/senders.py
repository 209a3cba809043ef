"""How one queued delivery leaves the hub: signed webhook (HTTP POST), e-mail (SMTP) or log.

One small function per transport; each raises `SendFailed` for a delivery problem so the
worker retries it, never anything else.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from hub.alerting.channels import url_allowed
from posdomain.obs import log_event
from posdomain.webhooks import sign_headers

log = logging.getLogger("cfpos.alerts")
TIMEOUT_S = 5.0


class SendFailed(RuntimeError):
    """The channel did not take the message (retried with backoff); `status` if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def post_signed(
    url: str, secrets_in_use: list[str], msg_id: str, body: bytes, allowlist: list[str]
) -> int:
    """POST the raw body with Standard Webhooks headers signed by every secret in use;
    return the 2xx status, or raise SendFailed (also for a URL no longer allowed).

    Shared by alert channels and the integrations' business webhooks (FR-501, FR-P7-1010).
    """
    if not secrets_in_use or not url_allowed(url, allowlist):
        raise SendFailed("webhook URL no longer allowed or no secret")
    headers = {"Content-Type": "application/json", **sign_headers(secrets_in_use, msg_id, body)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - allow-listed http(s)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:  # noqa: S310
            status = int(resp.status)
    except urllib.error.HTTPError as err:
        raise SendFailed(f"webhook answered {err.code}", err.code) from err
    except (urllib.error.URLError, OSError) as err:
        raise SendFailed(f"webhook unreachable: {err}") from err
    if not 200 <= status < 300:
        raise SendFailed(f"webhook answered {status}", status)
    return status


@dataclass(frozen=True)
class Senders:
    """Transport settings: the SMTP relay, sender address and the webhook allow list."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "cfpos-alerts@localhost"
    webhook_allowlist: list[str] = field(default_factory=list)

    def send(self, kind: str, target: str, secret: str | None, msg_id: str, payload: Any) -> None:
        """Deliver one message through the channel kind (SendFailed on any problem)."""
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        if kind == "webhook":
            self.webhook(target, secret, msg_id, body)
        elif kind == "email":
            self.email(target, msg_id, payload)
        elif kind == "log":
            log_event(log, "alert", logging.WARNING, message_id=msg_id, payload=payload)
        else:
            raise SendFailed(f"unknown channel kind {kind!r}")

    def webhook(self, url: str, secret: str | None, msg_id: str, body: bytes) -> None:
        """POST the raw body with Standard Webhooks headers; any 2xx is delivered."""
        post_signed(url, [secret] if secret else [], msg_id, body, self.webhook_allowlist)

    def email(self, to: str, msg_id: str, payload: Any) -> None:
        """One plain-text mail per state change, Message-ID derived from the delivery id."""
        alert = payload.get("alert", {})
        msg = EmailMessage()
        msg["From"], msg["To"] = self.smtp_from, to
        msg["Subject"] = (
            f"[{alert.get('severity')}] {payload.get('transition')}: {alert.get('summary')}"
        )
        msg["Message-ID"] = f"<{msg_id}@cfpos>"
        msg.set_content(json.dumps(payload, indent=2, sort_keys=True))
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=TIMEOUT_S) as smtp:
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as err:
            raise SendFailed(f"smtp: {err}") from err
