"""Build the release artifact (FR-804): `python -m scripts.build_release --env DEV` (`just build`).

Writes `dist/releases/cfgp-pos-{YYYY.MM.DD}.{build}/` with the project wheel (built by
`pip wheel --no-deps` from the source tree), `manifest.json` (git commit SHA and whether the
tree was dirty, RV tag, DV tag, environment target, UTC build time, every wheel's sha256) and
`SHA256SUMS`. The build number is the next free one of the UTC day in the output directory.
RV (requirements version) defaults to the FRD's version line, `RV-v1.1`; DV (design version)
to the package version, `DV-0.1.0`; both can be given. The environment target is required:
there is no default environment. Prints the artifact directory and its checksum.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from posdomain.releases import (
    ARTIFACT_NAME,
    ENVIRONMENTS,
    MANIFEST,
    SUMS,
    Manifest,
    WheelEntry,
    artifact_name,
    manifest_bytes,
    sha256_file,
    sums_text,
    verify_artifact,
)
from scripts.trace import FRD

ROOT = Path(__file__).resolve().parent.parent
_FRD_VERSION = re.compile(r"\(FRD (v[0-9.]+)\)")


def _git(source: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(source), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def default_rv(frd: Path = FRD) -> str:
    """`RV-<FRD version>` from the FRD's title line (`RV-unknown` without the file)."""
    if frd.is_file():
        match = _FRD_VERSION.search(frd.read_text(encoding="utf-8")[:400])
        if match:
            return f"RV-{match.group(1)}"
    return "RV-unknown"


def package_version(source: Path) -> str:
    """The project version in pyproject.toml."""
    data = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def next_build(out: Path, now: datetime) -> int:
    """The next free build number of the UTC day in `out`."""
    prefix = artifact_name(now.date(), 1)[:-2]
    used = [
        int(p.name.rsplit(".", 1)[1])
        for p in out.glob(f"{prefix}.*")
        if ARTIFACT_NAME.match(p.name) and not p.name.endswith(".partial")
    ]
    return max(used, default=0) + 1


def build_wheels(source: Path, into: Path) -> list[Path]:
    """`pip wheel --no-deps` of the source tree into `into` (the project's own wheel only)."""
    with tempfile.TemporaryDirectory(prefix="cfpos-build-") as tmp:
        work = Path(tmp) / "src"  # a clean copy: no stale build/ or egg-info leaks in
        shutil.copytree(
            source,
            work,
            ignore=shutil.ignore_patterns(
                ".git", ".venv", "dist", "var", "build", "*.egg-info", "__pycache__", ".*_cache"
            ),
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-q",
                "--wheel-dir",
                str(into),
                str(work),
            ],
            check=True,
        )
    return sorted(into.glob("*.whl"))


def build(
    env: str,
    *,
    source: Path = ROOT,
    git_source: Path = ROOT,
    out: Path | None = None,
    rv_tag: str | None = None,
    dv_tag: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Build one artifact directory and return it (written under a .partial name first).

    `source` is the tree the wheel is built from, `git_source` the checkout whose commit the
    manifest names (the same unless a patched copy is built: then it is marked dirty)."""
    if env not in ENVIRONMENTS:
        raise SystemExit(f"environment must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    out = out or source / "dist" / "releases"
    out.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    name = artifact_name(now.date(), next_build(out, now))
    partial = out / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    wheels = build_wheels(source, partial)
    version = package_version(source)
    manifest = Manifest(
        name=name,
        version=version,
        git_sha=_git(git_source, "rev-parse", "HEAD"),
        # a tree other than the checkout (a patched copy) is never what the commit holds
        git_dirty=source.resolve() != git_source.resolve()
        or bool(_git(git_source, "status", "--porcelain", "--untracked-files=no")),
        rv_tag=rv_tag or default_rv(),
        dv_tag=dv_tag or f"DV-{version}",
        environment=env,  # type: ignore[arg-type]
        built_at=now,
        wheels=[
            WheelEntry(file=w.name, sha256=sha256_file(w), size=w.stat().st_size) for w in wheels
        ],
    )
    (partial / MANIFEST).write_bytes(manifest_bytes(manifest))
    (partial / SUMS).write_text(
        sums_text(partial, [w.name for w in wheels] + [MANIFEST]), encoding="utf-8"
    )
    final = out / name
    partial.rename(final)
    verify_artifact(final)
    return final


def main(argv: list[str] | None = None) -> int:
    """CLI: build, verify and print the artifact directory and checksum."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--rv", default=None, help="RV tag (default RV-<FRD version>)")
    parser.add_argument("--dv", default=None, help="DV tag (default DV-<package version>)")
    args = parser.parse_args(argv)
    path = build(args.env, source=args.source, out=args.out, rv_tag=args.rv, dv_tag=args.dv)
    manifest, checksum = verify_artifact(path)
    print(f"{path}\nenvironment {manifest.environment}  commit {manifest.git_sha[:12]}")
    print(f"{manifest.rv_tag} {manifest.dv_tag}  built {manifest.built_at.isoformat()}")
    print(f"checksum sha256:{checksum}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
