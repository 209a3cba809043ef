"""FR-500/NFR-005: box config validation says what to fix; profiles render valid configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from firmware_config.__main__ import main
from firmware_config.profiles import profile_names, render_profile
from firmware_config.schema import parse_box_config
from posdomain.errors import ValidationError

BASE: dict[str, Any] = {"box_id": "box-1", "tenant_id": "t-1", "branch_id": "b-1"}


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_box_config(data)
    return list(info.value.details["problems"])


@pytest.mark.req("FR-500")
def test_typo_key_suggests_the_right_field() -> None:
    problems = problems_of({**BASE, "devces": {}})
    assert problems[0].startswith("unknown field 'devces' — did you mean 'devices'?")


@pytest.mark.req("FR-500")
def test_nested_typo_and_bad_kind_name_path_and_allowed_values() -> None:
    problems = problems_of({**BASE, "devices": {"printr": {}, "scanner": {"kind": "evdevv"}}})
    assert any(
        p.startswith("devices: unknown field 'printr' — did you mean 'printer'?") for p in problems
    )
    kind = next(
        p for p in problems if p.startswith("devices.scanner.kind: 'evdevv' is not allowed")
    )
    assert "did you mean 'evdev'?" in kind
    assert "allowed: fake, usb, serial, network, file, evdev, none" in kind


@pytest.mark.req("FR-500")
@pytest.mark.parametrize(
    ("device", "fix"),
    [
        ({"kind": "evdev", "path": "/dev/input/event3"}, "/dev/input/by-id/"),
        ({"kind": "serial", "path": "/dev/ttyUSB0"}, "/dev/serial/by-id/"),
        ({"kind": "evdev"}, "needs a path"),
        ({"kind": "network"}, "not usable for a scanner"),
    ],
)
def test_unstable_or_missing_scanner_path_is_refused(device: dict[str, Any], fix: str) -> None:
    problems = problems_of({**BASE, "devices": {"scanner": device}})
    assert len(problems) == 1
    assert problems[0].startswith("devices.scanner")
    assert fix in problems[0]


@pytest.mark.req("FR-500")
def test_stable_and_pty_paths_are_accepted() -> None:
    devices = {
        "scanner": {"kind": "serial", "path": "/dev/pts/7"},
        "scale": {"kind": "serial", "path": "/dev/serial/by-id/usb-Toledo-if00"},
        "printer": {"kind": "usb", "path": "/dev/usb/lp0"},
    }
    config = parse_box_config({**BASE, "devices": devices})
    assert config.devices.scale.path == "/dev/serial/by-id/usb-Toledo-if00"


@pytest.mark.req("FR-500")
def test_bad_time_zone_and_locale() -> None:
    problems = problems_of({**BASE, "timezone": "Europe/Berln", "locale": "English"})
    assert any("unknown time zone 'Europe/Berln'" in p and "IANA" in p for p in problems)
    assert any(p.startswith("locale: ") for p in problems)
    assert parse_box_config({**BASE, "timezone": "Europe/Vienna", "locale": "de-AT"})


@pytest.mark.req("FR-500")
def test_validate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(yaml.safe_dump({**BASE, "timezone": "Europe/Berlin"}))
    bad.write_text(yaml.safe_dump({**BASE, "devces": {}, "timezone": "Mars/Base"}))
    assert main(["validate", str(good)]) == 0
    assert "OK box box-1" in capsys.readouterr().out
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert "did you mean 'devices'" in err
    assert "Mars/Base" in err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    (tmp_path / "broken.yaml").write_text("box_id: [unclosed")
    assert main(["validate", str(tmp_path / "broken.yaml")]) == 2


@pytest.mark.req("FR-500")
@pytest.mark.parametrize("name", ["pi-usb-epson-hid", "pi-serial-scanner-scale", "demo-fakes"])
def test_profiles_render_valid_configs(name: str, tmp_path: Path) -> None:
    assert name in profile_names()
    config = render_profile(name, box_id="box-9", tenant_id="t-9", branch_id="b-9")
    assert (config.box_id, config.profile) == ("box-9", name)
    out = tmp_path / "box.yaml"
    assert (
        main(
            [
                "profile",
                name,
                "--box-id",
                "box-9",
                "--tenant",
                "t-9",
                "--branch",
                "b-9",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert main(["validate", str(out)]) == 0


@pytest.mark.req("FR-500")
def test_profile_shapes_and_unknown_profile() -> None:
    hid = render_profile("pi-usb-epson-hid", box_id="b", tenant_id="t", branch_id="x")
    assert (hid.devices.printer.kind, hid.devices.printer.path) == ("usb", "/dev/usb/lp0")
    assert hid.devices.scanner.kind == "evdev"
    assert hid.devices.drawer.path is None  # drawer hangs off the printer
    scale = render_profile("pi-serial-scanner-scale", box_id="b", tenant_id="t", branch_id="x")
    assert scale.devices.scale.options["protocol"] == "toledo"
    with pytest.raises(ValidationError, match="did you mean 'demo-fakes'"):
        render_profile("demo-fake", box_id="b", tenant_id="t", branch_id="x")
