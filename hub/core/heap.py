"""The ingest worker's garbage-collector settings (issue 15; docs/performance.md).

A batch builds tens of thousands of short-lived containers (row dicts, parsed models) that
reference counting frees when the batch ends. With CPython's default young-generation
threshold (700 net allocations) the collector runs about fifteen times a batch, scanning and
promoting objects that are about to be freed anyway: ≈ 3 ms a 23-sale batch
(`gc.callbacks`, docs/performance.md). A threshold of 20 000 leaves a batch's objects to
reference counting; a cycle still gets collected within a few batches.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # net allocations of tracked objects before a young collection


def settle() -> None:
    """After start-up: freeze what start-up built (modules, models, settings live as long as
    the process; a full collection then scans only what batches leave behind) and raise the
    young generation's threshold (the older generations' stay)."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
