"""The hub ingest worker with a fault seam: it sleeps inside each batch transaction, after
the writes and before the commit, so a fault test can SIGKILL it with the transaction open.

Run as `python -m tests.faults.ingest_holding_tx SECONDS` (test-only; production code reads
no test switch, the seam is `hub.sync.apply.INSIDE_TRANSACTION_HOOKS`).
"""

from __future__ import annotations

import logging
import sys
import time

from hub import __main__ as hub_cli
from hub.sync import apply
from posdomain.obs import log_event

HOOK_LINE = "test hook: sleeping inside the ingest transaction"
log = logging.getLogger("tests.faults.ingest_holding_tx")


def main(seconds: float) -> int:
    """Install the sleep seam and run the normal ingest command."""

    def hold() -> None:
        log_event(log, HOOK_LINE, seconds=seconds)
        time.sleep(seconds)

    apply.INSIDE_TRANSACTION_HOOKS.append(hold)
    return hub_cli.main(["ingest"])


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])))
