"""Install an artifact's wheels beside the running release (pure-Python wheels unpacked).

The wheels are unpacked into `releases/<name>.partial/site/` and the directory is renamed to
`releases/<name>` only when complete, so an interrupted install is a `.partial` directory
the next run removes, never a half release. Third-party dependencies come from the box
image's Python environment; the release carries the project's own packages.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from appliance.updates.layout import Layout, fsync_dir
from posdomain.releases import MANIFEST, SUMS, Manifest


class InstallError(Exception):
    """The artifact cannot be installed on this box."""


def install(layout: Layout, artifact: Path, manifest: Manifest) -> Path:
    """Unpack a verified artifact into releases/<name>; return it (reused if installed)."""
    final = layout.release(manifest.name)
    if (final / MANIFEST).is_file():
        return final
    layout.releases.mkdir(parents=True, exist_ok=True)
    partial = layout.releases / f"{manifest.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    site = partial / "site"
    site.mkdir(parents=True)
    for wheel in manifest.wheels:
        if not wheel.file.endswith("-none-any.whl"):
            raise InstallError(f"{wheel.file} is not a pure-Python wheel")
        with zipfile.ZipFile(artifact / wheel.file) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise InstallError(f"unsafe path {member!r} in {wheel.file}")
            zf.extractall(site)
    shutil.copy2(artifact / MANIFEST, partial / MANIFEST)
    shutil.copy2(artifact / SUMS, partial / SUMS)
    fsync_dir(partial)
    partial.rename(final)
    fsync_dir(layout.releases)
    return final


def remove_partials(layout: Layout) -> list[str]:
    """Remove what an interrupted install left behind."""
    gone = []
    for path in layout.releases.glob("*.partial"):
        shutil.rmtree(path, ignore_errors=True)
        gone.append(path.name)
    return gone
