"""FR-500/FR-304: self-test steps fail with advice, never a traceback (real sockets, fakes
only for the hardware)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_config.profiles import render_profile
from provisioning.__main__ import main
from provisioning.selftest import format_report, run_selftest
from provisioning.units import write_units
from scripts.demo import free_port


def config_for(tmp_path: Path, **devices: object):  # type: ignore[no-untyped-def]
    overrides = {"mqtt": {"host": "127.0.0.1", "port": free_port(), "username": "box-t"}}
    overrides["devices"] = devices
    return render_profile(
        "demo-fakes", box_id="box-t", tenant_id="t", branch_id="b", overrides=overrides
    )


@pytest.mark.req("FR-500")
def test_unreachable_broker_is_a_fail_step_with_advice(tmp_path: Path) -> None:
    report = run_selftest(config_for(tmp_path), scan_timeout=0.5)
    by_name = {s["name"]: s for s in report["steps"]}
    assert all(by_name[n]["ok"] for n in ("devices", "printer", "drawer", "scanner"))
    assert by_name["broker"]["ok"] is False
    assert "Mosquitto listens on 127.0.0.1" in by_name["broker"]["action"]
    text = format_report(report)
    assert "FAIL broker" in text
    assert "what to do:" in text


@pytest.mark.req("FR-304")
def test_missing_scanner_device_and_paper_out_fail_with_advice(tmp_path: Path) -> None:
    config = config_for(
        tmp_path,
        printer={"kind": "fake", "options": {"fault": "paper_out"}},
    )
    report = run_selftest(config, scan_timeout=0.5)
    printer = next(s for s in report["steps"] if s["name"] == "printer")
    assert printer["message"].startswith("PAPER_OUT")
    assert "paper roll" in printer["action"]
    evdev = config_for(
        tmp_path, scanner={"kind": "evdev", "path": "/dev/input/by-id/usb-No_Such-event-kbd"}
    )
    report = run_selftest(evdev, scan_timeout=0.2)
    scanner = next(s for s in report["steps"] if s["name"] == "scanner")
    assert not scanner["ok"]
    assert scanner["action"]


@pytest.mark.req("FR-500")
def test_selftest_command_exit_codes_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "box.json"
    cfg.write_text(config_for(tmp_path).model_dump_json())
    out = tmp_path / "report.json"
    argv = ["selftest", "--config", str(cfg), "--scan-timeout", "0.2", "--json", str(out)]
    assert main(argv) == 1  # no broker on that port
    assert json.loads(out.read_text())["box_id"] == "box-t"
    bad = tmp_path / "bad.yaml"
    bad.write_text("box_id: x\ntenant_id: t\nbranch_id: b\ntimezone: Nowhere/City\n")
    assert main(["selftest", "--config", str(bad)]) == 2
    assert "Nowhere/City" in capsys.readouterr().err


def test_units_run_the_appliance_commands(tmp_path: Path) -> None:
    paths = write_units(tmp_path, tmp_path / "box.yaml", python="/opt/cfpos/bin/python")
    texts = {p.name: p.read_text() for p in paths}
    assert "ExecStart=/opt/cfpos/bin/python -m appliance sync" in texts["cfpos-box-sync.service"]
    assert "-m appliance devices" in texts["cfpos-box-devices.service"]
