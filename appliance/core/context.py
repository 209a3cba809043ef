"""What every box service needs to know: the box config and the audit-chain guard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from firmware_config.schema import BoxConfig
from posdomain.errors import Locked, Reason


@dataclass
class BoxContext:
    """Per-process box context (config from the file, chain state from start-up, the clock
    sessions are timed by: tests put a fake one here)."""

    config: BoxConfig
    chain_broken: bool = False
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def require_chain_intact(self) -> None:
        """Refuse privileged writes while the audit chain is broken (FR-802)."""
        if self.chain_broken:
            raise Locked(
                "the audit log failed verification; privileged actions are refused",
                Reason.AUDIT_CHAIN_BROKEN,
            )


def now_iso() -> str:
    """Timezone-aware UTC timestamp in ISO 8601 (storage form)."""
    return datetime.now(UTC).isoformat()
