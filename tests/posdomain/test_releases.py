"""Release artifacts: names, manifest, checksums, one-way promotion (FR-804)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from posdomain.errors import Conflict, HubReason, ValidationError
from posdomain.releases import (
    ENVIRONMENTS,
    MANIFEST,
    SUMS,
    Manifest,
    artifact_name,
    check_promotion,
    manifest_bytes,
    next_environment,
    parse_name,
    sha256_file,
    sort_key,
    sums_text,
    verify_artifact,
)

NAME = "cfgp-pos-2026.12.01.3"


def manifest(**over: Any) -> Manifest:
    fields: dict[str, Any] = {
        "name": NAME,
        "version": "1.4.0",
        "git_sha": "a" * 40,
        "git_dirty": False,
        "rv_tag": "RV-1.4",
        "dv_tag": "DV-7",
        "environment": "DEV",
        "built_at": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "wheels": [{"file": "cfpos-1.4.0-py3-none-any.whl", "sha256": "0" * 64, "size": 4}],
    }
    return Manifest.model_validate({**fields, **over})


def build(root: Path, name: str = NAME, wheel: bytes = b"PK\x03\x04") -> Path:
    """A well-formed artifact directory with one wheel."""
    directory = root / name
    directory.mkdir()
    whl = "cfpos-1.4.0-py3-none-any.whl"
    (directory / whl).write_bytes(wheel)
    entry = {"file": whl, "sha256": hashlib.sha256(wheel).hexdigest(), "size": len(wheel)}
    (directory / MANIFEST).write_bytes(manifest_bytes(manifest(name=name, wheels=[entry])))
    (directory / SUMS).write_text(sums_text(directory, [whl, MANIFEST]))
    return directory


@pytest.mark.req("FR-804")
def test_names_carry_the_build_day_and_number() -> None:
    assert artifact_name(date(2026, 3, 4), 1) == "cfgp-pos-2026.03.04.1"
    assert artifact_name(date(2026, 12, 1), 12) == "cfgp-pos-2026.12.01.12"
    with pytest.raises(ValueError, match=r"^build numbers start at 1$"):
        artifact_name(date(2026, 3, 4), 0)
    assert parse_name("cfgp-pos-2026.03.04.17") == (date(2026, 3, 4), 17)
    assert parse_name(artifact_name(date(2027, 1, 9), 999999)) == (date(2027, 1, 9), 999999)


@pytest.mark.req("FR-804")
@pytest.mark.parametrize(
    "name",
    ["cfgp-pos-2026.3.04.1", "cfgp-pos-2026.03.04", "cfgp-pos-2026.03.04.1234567", "x" + NAME,
     NAME + "x", "cfgp-pos-2026.02.30.1", "cfgp-pos-2026.13.01.1", ""],
)  # fmt: skip
def test_anything_else_is_not_an_artifact(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_name(name)
    assert info.value.reason is HubReason.ARTIFACT_INVALID
    assert repr(name) in info.value.message


@pytest.mark.req("FR-804")
def test_artifacts_sort_by_day_then_build_number() -> None:
    names = ["cfgp-pos-2026.12.01.10", "cfgp-pos-2026.11.30.99", "cfgp-pos-2026.12.01.9"]
    assert sorted(names, key=sort_key) == [names[1], names[2], names[0]]
    assert sort_key(NAME) == (date(2026, 12, 1), 3)


@pytest.mark.req("FR-804")
def test_the_manifest_is_strict_and_utc() -> None:
    assert manifest().environment == "DEV"
    bad: list[dict[str, Any]] = [
        {"name": "release-1"}, {"version": ""}, {"version": "v" * 41}, {"git_sha": "a" * 39},
        {"git_sha": "A" * 40}, {"rv_tag": "RV 1"}, {"dv_tag": ""}, {"rv_tag": "r" * 61},
        {"environment": "QA"}, {"wheels": []}, {"extra": 1},
        {"built_at": datetime(2026, 12, 1, 9, 30)},
        {"built_at": datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))},
        {"wheels": [{"file": "a.tar.gz", "sha256": "0" * 64, "size": 1}]},
        {"wheels": [{"file": "a.whl", "sha256": "0" * 63, "size": 1}]},
        {"wheels": [{"file": "a.whl", "sha256": "0" * 64, "size": 0}]},
        {"wheels": [{"file": "a.whl", "sha256": "0" * 64, "size": 1, "x": 1}]},
    ]  # fmt: skip
    for over in bad:
        with pytest.raises(PydanticValidationError):
            manifest(**over)
    utc = manifest(built_at=datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(0))))
    assert utc.built_at.utcoffset() == timedelta(0)
    assert len(manifest(rv_tag="r" * 60, version="v" * 40).rv_tag) == 60


@pytest.mark.req("FR-804")
def test_manifest_bytes_are_indented_json_with_a_final_newline() -> None:
    raw = manifest_bytes(manifest())
    assert raw.endswith(b"}\n")
    assert raw.startswith(b'{\n  "name": "cfgp-pos-2026.12.01.3",\n')
    assert Manifest.model_validate_json(raw) == manifest()


@pytest.mark.req("FR-804")
def test_sha256_of_files_and_the_sums_list(tmp_path: Path) -> None:
    big = bytes(range(256)) * 5000  # more than one 1 MiB block
    (tmp_path / "b.bin").write_bytes(big)
    (tmp_path / "a.bin").write_bytes(b"")
    assert sha256_file(tmp_path / "b.bin") == hashlib.sha256(big).hexdigest()
    empty = hashlib.sha256(b"").hexdigest()
    assert sums_text(tmp_path, ["b.bin", "a.bin"]) == (
        f"{empty}  a.bin\n{hashlib.sha256(big).hexdigest()}  b.bin\n"
    )


@pytest.mark.req("FR-804")
def test_a_whole_artifact_verifies_and_its_checksum_is_the_manifests(tmp_path: Path) -> None:
    directory = build(tmp_path)
    found, checksum = verify_artifact(directory)
    assert found.name == NAME
    assert checksum == hashlib.sha256((directory / MANIFEST).read_bytes()).hexdigest()


def refused(directory: Path, words: str) -> None:
    with pytest.raises(ValidationError) as info:
        verify_artifact(directory)
    assert info.value.reason is HubReason.ARTIFACT_INVALID
    assert info.value.message == words or info.value.message.startswith(words + ": ")


@pytest.mark.req("FR-804")
def test_a_broken_artifact_says_what_is_wrong(tmp_path: Path) -> None:
    d = build(tmp_path)
    (d / SUMS).unlink()
    refused(d, "unreadable artifact")

    (tmp_path / "other").mkdir()
    d = build(tmp_path / "other")
    (d / MANIFEST).write_text("{not json")
    refused(d, "unreadable artifact")

    (tmp_path / "renamed").mkdir()
    d = build(tmp_path / "renamed")
    d = d.rename(d.with_name("cfgp-pos-2026.12.01.4"))
    refused(d, "manifest name differs from the directory")

    (tmp_path / "extra").mkdir()
    d = build(tmp_path / "extra")
    (d / SUMS).write_text((d / SUMS).read_text() + f"{'0' * 64}  stray.txt\n")
    refused(d, "SHA256SUMS does not list the artifact")

    (tmp_path / "missing").mkdir()
    d = build(tmp_path / "missing")
    (d / SUMS).write_text(sums_text(d, [MANIFEST]))
    refused(d, "SHA256SUMS does not list the artifact")


@pytest.mark.req("FR-804")
def test_wheels_and_sums_must_agree_with_the_files(tmp_path: Path) -> None:
    (tmp_path / "swap").mkdir()
    d = build(tmp_path / "swap")
    whl = "cfpos-1.4.0-py3-none-any.whl"
    (d / whl).write_bytes(b"tampered")
    (d / SUMS).write_text(sums_text(d, [whl, MANIFEST]))  # sums follow the file, manifest not
    refused(d, "SHA256SUMS and manifest disagree")

    (tmp_path / "tampered").mkdir()
    d = build(tmp_path / "tampered")
    (d / whl).write_bytes(b"tampered")  # manifest and sums agree, the file does not
    refused(d, f"{whl} does not match its checksum")

    (tmp_path / "gone").mkdir()
    d = build(tmp_path / "gone")
    (d / whl).unlink()
    (d / whl).mkdir()  # a directory in the wheel's place is no file
    refused(d, f"{whl} does not match its checksum")

    (tmp_path / "manifest").mkdir()
    d = build(tmp_path / "manifest")
    (d / MANIFEST).write_bytes((d / MANIFEST).read_bytes() + b"\n")  # still valid JSON
    refused(d, f"{MANIFEST} does not match its checksum")


@pytest.mark.req("FR-804")
def test_promotion_goes_one_step_forward_only() -> None:
    assert ENVIRONMENTS == ("DEV", "STAGING", "PROD")
    assert next_environment("DEV") == "STAGING"
    assert next_environment("STAGING") == "PROD"
    assert next_environment("PROD") is None
    check_promotion("DEV", "STAGING")
    check_promotion("STAGING", "PROD")
    for current, target, may in [
        ("DEV", "PROD", "STAGING"),
        ("PROD", "STAGING", "nothing"),
        ("STAGING", "STAGING", "PROD"),
        ("PROD", "DEV", "nothing"),
    ]:
        with pytest.raises(Conflict) as info:
            check_promotion(current, target)
        assert info.value.status == 409
        assert info.value.reason is HubReason.PROMOTION_NOT_ONE_WAY
        assert info.value.details == {"current": current, "target": target}
        assert info.value.message == (
            f"promotion is one-way and one step: {current} may go to {may}, not {target}"
        )
    with pytest.raises(ValidationError) as bad:
        check_promotion("DEV", "QA")
    assert bad.value.reason is HubReason.ARTIFACT_INVALID
    assert "'QA'" in bad.value.message


@pytest.mark.req("FR-804")
def test_a_sums_line_splits_at_the_first_double_space(tmp_path: Path) -> None:
    d = build(tmp_path)
    sums = (d / SUMS).read_text()
    (d / SUMS).write_text(sums.replace(f"  {MANIFEST}", f"  x  {MANIFEST}"))
    refused(d, "SHA256SUMS does not list the artifact")
