"""CPU seconds of a process on this machine, for benchmarks that compare builds by CPU time
(a loaded, shared machine distorts wall time far more than CPU time)."""

from __future__ import annotations

from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """Seconds on CPU so far of a local process, e.g. a PostgreSQL backend found with
    `SELECT pg_backend_pid()` (first field of /proc/<pid>/schedstat, in nanoseconds)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
