"""Commissioning self-test: printer, drawer, scanner, broker — each PASS/FAIL with advice.

No step ever raises: a device or broker failure becomes a FAIL step whose `action` tells
the field tech what to do (no traceback on a till screen). The report is JSON the hub
stores (`POST /api/v1/boxes/{box_id}/commissioning`, HTTP basic with the box's MQTT login).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from appliance.devices.driver_spec import devices_spec
from drivers.base import DeviceError
from drivers.drawer import DrawerKick
from drivers.factory import DeviceSet, build_devices
from drivers.printer import ReceiptDoc
from drivers.scanner import FakeScanner
from firmware_config.schema import BoxConfig
from posdomain import topics
from provisioning.hardware import hardware_summary

DEFAULT_TEST_CODE = "4006381333931"
BROKER_TIMEOUT_S = 10.0
ADVICE = {
    "PAPER_OUT": "load a paper roll, close the cover, run the self-test again",
    "COVER_OPEN": "close the printer cover, run the self-test again",
    "DEVICE_UNAVAILABLE": (
        "the device went away: check its cable and power (and the path in the config), "
        "then run the self-test again"
    ),
    "DEVICE_TIMEOUT": "the device stopped answering: power-cycle it, check the cable, retry",
    "STALE_KICK": "the drawer answered too late: check the printer-to-drawer cable",
    "GARBLED_READ": "the scan could not be decoded: check devices.scanner.options.layout",
}


@dataclass
class Step:
    """One self-test step's outcome."""

    name: str
    ok: bool
    message: str
    action: str = ""


def _device_fail(name: str, err: DeviceError) -> Step:
    advice = ADVICE.get(err.code, "check the device and its configuration, then retry")
    return Step(name, False, f"{err.code}: {err.message}", advice)


def check_printer(devices: DeviceSet, config: BoxConfig) -> Step:
    """Print a short test receipt."""
    doc = ReceiptDoc.from_text(
        "CFPOS SELF-TEST",
        f"{config.till_name} / {config.box_id}",
        f"branch {config.branch_id}",
        datetime.now(UTC).isoformat(timespec="seconds"),
        "If you can read this, the printer works.",
    )
    try:
        devices.printer.print_receipt(doc)
    except DeviceError as err:
        return _device_fail("printer", err)
    return Step("printer", True, "test receipt printed: check it came out complete and legible")


def check_drawer(devices: DeviceSet) -> Step:
    """Open the cash drawer once."""
    try:
        devices.drawer.kick(DrawerKick.now(reason="selftest"))
    except DeviceError as err:
        return _device_fail("drawer", err)
    return Step("drawer", True, "drawer kicked: check it opened, then close it")


def check_scanner(devices: DeviceSet, config: BoxConfig, timeout: float) -> Step:
    """Wait for one scan (a fake scanner is fed its configured test code)."""
    scanner = devices.scanner
    if isinstance(scanner, FakeScanner):
        scanner.feed(str(config.devices.scanner.options.get("test_code", DEFAULT_TEST_CODE)))
    try:
        code = scanner.read(timeout=timeout)
    except DeviceError as err:
        return _device_fail("scanner", err)
    if code is None:
        return Step(
            "scanner",
            False,
            f"no scan within {timeout:.0f} s",
            "scan any product barcode during the test; if the scanner beeps but nothing "
            "arrives, check devices.scanner.path (/dev/input/by-id/...) and its USB cable",
        )
    return Step("scanner", True, f"scanned {code!r}")


def _broker_advice(reason: str, config: BoxConfig) -> str:
    if "not authorized" in reason.lower() or "bad user" in reason.lower():
        return (
            "the broker refused this box's login: on the hub run `python -m hub mqtt-config` "
            "and reload Mosquitto; check mqtt.username and the password file"
        )
    return f"check the network and that Mosquitto listens on {config.mqtt.host}:{config.mqtt.port}"


def _tls_refused(err: ssl.SSLCertVerificationError, config: BoxConfig) -> Step:
    why = err.verify_message or str(err)
    return Step(
        "broker",
        False,
        f"TLS: the broker's certificate was refused ({why})",
        f"the broker at {config.mqtt.host}:{config.mqtt.port} must present a valid certificate "
        "signed by the CA in mqtt.ca_file (the one written at enrolment): renew an expired "
        "broker certificate or fetch the right CA; never switch mqtt.tls off",
    )


def check_broker(config: BoxConfig, timeout: float = BROKER_TIMEOUT_S) -> Step:
    """Log in with the box's credentials (CONNACK) and publish a status heartbeat."""
    settings = config.mqtt
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"cfpos-selftest-{config.box_id}",
        protocol=mqtt.MQTTv311,
    )
    if settings.username:
        password = None
        if settings.password_file:
            password = Path(settings.password_file).read_text(encoding="utf-8").strip()
        client.username_pw_set(settings.username, password)
    if settings.tls:  # as the sync agent: chain verified, no plain-text fallback
        client.tls_set(ca_certs=settings.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.tls_insecure_set(not settings.tls_verify_hostname)
    done, outcome = threading.Event(), {"reason": "no answer from the broker"}

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        outcome["reason"] = str(reason)
        outcome["ok"] = "yes" if not reason.is_failure else ""
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(settings.host, settings.port, keepalive=settings.keepalive)
    except ssl.SSLCertVerificationError as err:
        return _tls_refused(err, config)
    except OSError as err:
        return Step("broker", False, f"cannot connect: {err}", _broker_advice(str(err), config))
    client.loop_start()
    try:
        if not done.wait(timeout) or not outcome.get("ok"):
            reason = outcome["reason"]
            return Step("broker", False, f"login refused: {reason}", _broker_advice(reason, config))
        status = {"v": 1, "box_id": config.box_id, "online": True, "queued": 0, "selftest": True}
        status["ts"] = datetime.now(UTC).isoformat()
        info = client.publish(topics.box_status(config.box_id), json.dumps(status), qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            return Step("broker", False, "status publish not acknowledged", "retry; check load")
    finally:
        client.loop_stop()
        client.disconnect()
    return Step("broker", True, f"logged in as {settings.username} and published a status")


def run_selftest(
    config: BoxConfig,
    *,
    scan_timeout: float = 15.0,
    devices: DeviceSet | None = None,
    broker: Callable[[BoxConfig], Step] = check_broker,
) -> dict[str, Any]:
    """Run every step and return the commissioning report."""
    started = datetime.now(UTC).isoformat()
    steps: list[Step] = []
    if devices is None:
        try:
            devices = build_devices(devices_spec(config.devices))
        except (ValueError, DeviceError) as err:
            steps.append(Step("devices", False, str(err), "fix the devices section, validate"))
    if devices is not None:
        steps.append(Step("devices", True, "device drivers built from the configuration"))
        steps += [
            check_printer(devices, config),
            check_drawer(devices),
            check_scanner(devices, config, scan_timeout),
        ]
    steps.append(broker(config))
    return {
        "v": 1,
        "box_id": config.box_id,
        "tenant_id": config.tenant_id,
        "branch_id": config.branch_id,
        "till_name": config.till_name,
        "profile": config.profile,
        "ok": all(s.ok for s in steps),
        "started_at": started,
        "finished_at": datetime.now(UTC).isoformat(),
        "hardware": hardware_summary(),
        "steps": [asdict(s) for s in steps],
    }


def format_report(report: dict[str, Any]) -> str:
    """Human lines: one per step, PASS/FAIL, message and what to do."""
    lines = [f"self-test of box {report['box_id']}: {'PASS' if report['ok'] else 'FAIL'}"]
    for step in report["steps"]:
        verdict = "PASS" if step["ok"] else "FAIL"
        lines.append(f"  {verdict} {step['name']:<8} {step['message']}")
        if step["action"] and not step["ok"]:
            lines.append(f"       what to do: {step['action']}")
    return "\n".join(lines)
