"""gunicorn settings of the hub (`gunicorn -c hub/gunicorn_conf.py 'hub.app:create_app()'`).

prometheus-client multiprocess mode (PITFALLS "Operations"): every worker writes its metric
values to files in PROMETHEUS_MULTIPROC_DIR, and /metrics sums them. The directory must be
emptied when the server starts (stale files of an earlier run would be summed in) and a
dead worker's live gauges marked, so both hooks live here.
"""

from __future__ import annotations

import shutil
from typing import Any

from prometheus_client import multiprocess

from hub.settings import settings

workers = 2
timeout = 120  # gunicorn's 30 s kills a worker in a 100 000-product catalog import under load


def on_starting(_server: Any) -> None:
    """Wipe and recreate the multiprocess directory before any worker starts."""
    directory = settings().prometheus_multiproc_dir
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)


def child_exit(_server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauge files."""
    if settings().prometheus_multiproc_dir is not None:
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
