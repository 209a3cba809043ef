"""Where stock alerts go (FR-202 routed through FR-501): a small channel interface.

The log channel is the default; webhook/e-mail channels of FR-501 implement the same
`send(alert)` and are installed with `set_channel`.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from posdomain.obs import log_event

log = logging.getLogger("cfpos.alerts")


class AlertChannel(Protocol):
    """Delivers one committed alert (a JSON-ready dict) somewhere people will see it."""

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver the alert; must not raise for a delivery problem it can log instead."""


class LogChannel:
    """Writes one structured JSON log line per alert (posdomain.obs)."""

    def send(self, alert: dict[str, Any]) -> None:
        """Log the alert at WARNING with all its fields."""
        log_event(log, "stock alert", logging.WARNING, alert=alert)


class RecordingChannel:
    """Keeps every alert it was given (demos and tests assert on what was really sent)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, alert: dict[str, Any]) -> None:
        """Remember the alert."""
        self.sent.append(alert)


_channel: list[AlertChannel] = [LogChannel()]


def set_channel(channel: AlertChannel) -> AlertChannel:
    """Install the channel alerts are routed to; return the previous one."""
    previous = _channel[0]
    _channel[0] = channel
    return previous


def current_channel() -> AlertChannel:
    """The installed alert channel."""
    return _channel[0]
