"""`just build` (FR-804): two builds of a day are .1 and .2, their manifests carry what the
seed asks, the checksums catch a tampered wheel, and promotion only moves one step forward."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from posdomain.errors import Conflict, HubReason, ValidationError
from posdomain.releases import check_promotion, next_environment, parse_name, verify_artifact
from scripts.build_release import ROOT, build

pytestmark = pytest.mark.req("FR-804")


def test_two_builds_are_numbered_and_carry_the_manifest(tmp_path: Path) -> None:
    """The CLI `just build` runs: name, SHA, RV/DV tags, env, UTC time, wheel checksums."""
    out = tmp_path / "releases"
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-m", "scripts.build_release", "--env", "STAGING", "--out", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    names = sorted(p.name for p in out.iterdir())
    assert [parse_name(n)[1] for n in names] == [1, 2]
    manifest, checksum = verify_artifact(out / names[1])
    raw = json.loads((out / names[1] / "manifest.json").read_text())
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert raw["git_sha"] == head
    assert manifest.environment == "STAGING"
    assert manifest.rv_tag == "RV-v1.1"
    assert manifest.dv_tag.startswith("DV-")
    assert raw["built_at"].endswith("Z")
    assert manifest.wheels[0].file.endswith("-py3-none-any.whl")
    assert len(checksum) == 64


def test_a_tampered_wheel_or_manifest_is_refused(tmp_path: Path) -> None:
    """Changing one byte of the wheel, or the manifest, fails verification."""

    art = build("DEV", out=tmp_path)
    verify_artifact(art)
    wheel = next(art.glob("*.whl"))
    data = bytearray(wheel.read_bytes())
    data[100] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with pytest.raises(ValidationError) as err:
        verify_artifact(art)
    assert err.value.reason is HubReason.ARTIFACT_INVALID
    renamed = art.with_name(art.name.replace(".1", ".9"))
    art.rename(renamed)
    with pytest.raises(ValidationError):
        verify_artifact(renamed)


def test_promotion_is_one_way_and_one_step() -> None:
    """DEV → STAGING → PROD; no skipping, no going back, nothing after PROD."""
    check_promotion("DEV", "STAGING")
    check_promotion("STAGING", "PROD")
    for current, target in [
        ("DEV", "PROD"),
        ("PROD", "STAGING"),
        ("STAGING", "DEV"),
        ("PROD", "PROD"),
    ]:
        with pytest.raises(Conflict) as err:
            check_promotion(current, target)
        assert err.value.reason is HubReason.PROMOTION_NOT_ONE_WAY
    assert next_environment("PROD") is None
    with pytest.raises(ValidationError):
        parse_name("cfgp-pos-2026.13.01.1")
