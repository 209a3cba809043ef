"""Where releases live on a box and the crash-safe primitives the updater is built from.

    ROOT/releases/<name>/site/   the release's installed packages (PYTHONPATH of the box)
    ROOT/releases/<name>/manifest.json
    ROOT/current  -> releases/<name>   (relative symlink: what the box boots)
    ROOT/state.json                    {"good", "pending", "previous", "db_backup", "phase"}
    ROOT/backups/                      the database as it was before the pending update
    ROOT/reports/                      one JSON report per update (GOOD or ROLLED_BACK + why)

Every file is written to a temporary name, fsynced and renamed; the symlink is replaced by
renaming a new one over it. A rename is atomic on POSIX, so a SIGKILL leaves the old or
the new file, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Layout:
    """The paths under one box's release root."""

    root: Path

    @property
    def releases(self) -> Path:
        """Installed releases, one directory each."""
        return self.root / "releases"

    @property
    def current(self) -> Path:
        """The symlink the box boots from."""
        return self.root / "current"

    @property
    def state_file(self) -> Path:
        """The updater's journal."""
        return self.root / "state.json"

    @property
    def backups(self) -> Path:
        """Database snapshots taken before an update."""
        return self.root / "backups"

    @property
    def reports(self) -> Path:
        """Update reports for the hub."""
        return self.root / "reports"

    def release(self, name: str) -> Path:
        """The directory of one installed release."""
        return self.releases / name

    def site(self, name: str) -> Path:
        """The PYTHONPATH entry of one installed release."""
        return self.release(name) / "site"

    def current_name(self) -> str | None:
        """The release `current` points at (None if missing or dangling)."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return None
        name = Path(target).name
        return name if self.release(name).is_dir() else None


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` via a fsynced temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_state(layout: Layout) -> dict[str, Any]:
    """The journal (empty when the box never updated)."""
    try:
        data = json.loads(layout.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def write_state(layout: Layout, state: dict[str, Any]) -> None:
    """Replace the journal atomically."""
    write_atomic(layout.state_file, json.dumps(state, sort_keys=True, indent=2).encode())


def point_current(layout: Layout, name: str) -> None:
    """Point `current` at a release by renaming a fresh symlink over it."""
    tmp = layout.root / ".current.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(Path("releases") / name, tmp)
    os.replace(tmp, layout.current)
    fsync_dir(layout.root)
