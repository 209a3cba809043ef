"""Release artifacts and environments (FR-804, Release Governance v1.1 sections 1-2).

An artifact is a directory `cfgp-pos-{YYYY.MM.DD}.{build}/` holding the project's wheel(s),
`manifest.json` (git commit SHA, RV tag, DV tag, environment target, UTC build time and the
sha256 of every wheel) and `SHA256SUMS` (sha256 of every file, `sha256sum -c` format). The
artifact's checksum is the sha256 of `manifest.json`'s bytes, which pins every wheel.
Environments are DEV → STAGING → PROD; promotion moves one step forward and never back.
Box, hub and the build script share these rules, so they cannot drift.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from posdomain.errors import Conflict, HubReason, ValidationError

ENVIRONMENTS: tuple[str, ...] = ("DEV", "STAGING", "PROD")
Environment = Literal["DEV", "STAGING", "PROD"]
ARTIFACT_NAME = re.compile(r"^cfgp-pos-(\d{4})\.(\d{2})\.(\d{2})\.(\d{1,6})$")
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
_SHA256 = r"^[0-9a-f]{64}$"


def artifact_name(day: date, build: int) -> str:
    """`cfgp-pos-{YYYY.MM.DD}.{build}` for a UTC build day and a build number (1, 2, ...)."""
    if build < 1:
        raise ValueError("build numbers start at 1")
    return f"cfgp-pos-{day:%Y.%m.%d}.{build}"


def parse_name(name: str) -> tuple[date, int]:
    """(build day, build number) of an artifact name, or ValidationError ARTIFACT_INVALID."""
    match = ARTIFACT_NAME.match(name)
    if not match:
        raise ValidationError(f"not an artifact name: {name!r}", HubReason.ARTIFACT_INVALID)
    y, m, d, build = (int(g) for g in match.groups())
    try:
        return date(y, m, d), build
    except ValueError as err:
        raise ValidationError(f"bad date in {name!r}", HubReason.ARTIFACT_INVALID) from err


def sort_key(name: str) -> tuple[date, int]:
    """Order artifacts by build day, then build number."""
    return parse_name(name)


class WheelEntry(BaseModel):
    """One wheel of the artifact."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(pattern=r"^[A-Za-z0-9_.+-]+\.whl$", max_length=200)
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=1)


class Manifest(BaseModel):
    """What `manifest.json` carries (FR-804)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=ARTIFACT_NAME.pattern)
    version: str = Field(min_length=1, max_length=40)  # the project's package version
    git_sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    git_dirty: bool
    rv_tag: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")
    dv_tag: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")
    environment: Environment
    built_at: datetime
    wheels: list[WheelEntry] = Field(min_length=1, max_length=20)

    @field_validator("built_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        offset = value.utcoffset()
        if offset is None or offset.total_seconds() != 0:
            raise ValueError("built_at must be UTC")
        return value


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_bytes(manifest: Manifest) -> bytes:
    """The one byte form `manifest.json` is written in (its sha256 is the artifact checksum)."""
    return (manifest.model_dump_json(indent=2) + "\n").encode("utf-8")


def sums_text(directory: Path, files: list[str]) -> str:
    """`SHA256SUMS` content for the named files of a directory."""
    return "".join(f"{sha256_file(directory / f)}  {f}\n" for f in sorted(files))


def verify_artifact(directory: Path) -> tuple[Manifest, str]:
    """Check an artifact directory (manifest, name, SHA256SUMS, wheels); return it and checksum.

    ValidationError ARTIFACT_INVALID says what is wrong; nothing is trusted before this.
    """
    try:
        raw = (directory / MANIFEST).read_bytes()
        sums = (directory / SUMS).read_text(encoding="utf-8")
        manifest = Manifest.model_validate_json(raw)
    except (OSError, ValueError) as err:
        raise ValidationError(f"unreadable artifact: {err}", HubReason.ARTIFACT_INVALID) from err
    if manifest.name != directory.name:
        raise ValidationError(
            "manifest name differs from the directory", HubReason.ARTIFACT_INVALID
        )
    listed: dict[str, str] = {}
    for line in sums.splitlines():
        digest, _sep, file = line.partition("  ")
        listed[file] = digest
    expected = {w.file for w in manifest.wheels} | {MANIFEST}
    if set(listed) != expected:
        raise ValidationError("SHA256SUMS does not list the artifact", HubReason.ARTIFACT_INVALID)
    for wheel in manifest.wheels:
        if listed[wheel.file] != wheel.sha256:
            raise ValidationError("SHA256SUMS and manifest disagree", HubReason.ARTIFACT_INVALID)
    for file, digest in listed.items():
        path = directory / file
        if not path.is_file() or sha256_file(path) != digest:
            raise ValidationError(f"{file} does not match its checksum", HubReason.ARTIFACT_INVALID)
    return manifest, hashlib.sha256(raw).hexdigest()


def next_environment(current: str) -> str | None:
    """The one environment an artifact in `current` may be promoted to (None after PROD)."""
    i = ENVIRONMENTS.index(current)
    return ENVIRONMENTS[i + 1] if i + 1 < len(ENVIRONMENTS) else None


def check_promotion(current: str, target: str) -> None:
    """Allow only the next step DEV → STAGING → PROD (409 PROMOTION_NOT_ONE_WAY otherwise)."""
    if target not in ENVIRONMENTS:
        raise ValidationError(f"unknown environment {target!r}", HubReason.ARTIFACT_INVALID)
    if next_environment(current) != target:
        raise Conflict(
            f"promotion is one-way and one step: {current} may go to "
            f"{next_environment(current) or 'nothing'}, not {target}",
            HubReason.PROMOTION_NOT_ONE_WAY,
            {"current": current, "target": target},
        )
