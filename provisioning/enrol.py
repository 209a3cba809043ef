"""`enrol`: trade a one-time code for a box identity and write everything the box needs.

Writes into the output directory: `box.yaml` (validated by firmware_config, the hardware
profile merged under the identity the hub issued), `mqtt.password` (mode 0600), and
`systemd/*.service`; then runs `python -m appliance migrate` so the box database carries the
new identity. Nothing is written when the hub refuses the code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from firmware_config.profiles import render_profile
from provisioning.hardware import hardware_summary
from provisioning.http import HttpClient, UrllibClient
from provisioning.units import install_units, write_units

DEFAULT_DATABASE = "/var/lib/cfpos/box.sqlite3"
DEFAULT_BIND = "0.0.0.0:8100"
ADVICE = {
    "ENROLMENT_UNKNOWN": "check the code for typos (letters/digits only); else ask for a new one",
    "ENROLMENT_EXPIRED": "ask the head office for a new code (codes last 60 minutes by default)",
    "ENROLMENT_USED": "each code enrols one box only: ask the head office for a new code",
    "ENROLMENT_RATE_LIMITED": "wait 15 minutes before trying again",
}


class EnrolFailed(Exception):
    """Enrolment did not complete; `reason` is the hub's reason code when there is one."""

    def __init__(self, message: str, reason: str = "", action: str = "") -> None:
        super().__init__(message)
        self.message, self.reason, self.action = message, reason, action


@dataclass
class EnrolResult:
    """What enrol wrote."""

    box_id: str
    config_path: Path
    password_path: Path
    units: list[Path]
    migrated: bool
    extra: dict[str, Any] = field(default_factory=dict)


def write_private(path: Path, text: str) -> None:
    """Write a secret readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def request_identity(client: HttpClient, hub_url: str, code: str) -> dict[str, Any]:
    """POST /api/v1/enrol; the hub's answer, or EnrolFailed with what to do."""
    status, body = client.post_json(
        f"{hub_url.rstrip('/')}/api/v1/enrol", {"code": code, "hardware": hardware_summary()}
    )
    if status != 201:
        err = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
        reason = str(err.get("reason", f"HTTP_{status}"))
        message = str(err.get("message", f"the hub answered HTTP {status}"))
        raise EnrolFailed(message, reason, ADVICE.get(reason, "check the hub URL and retry"))
    return body


def _migrate(config_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "appliance", "migrate", "--config", str(config_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if res.returncode != 0:
        raise EnrolFailed(
            f"box database set-up failed: {res.stderr.strip()[-500:]}",
            "MIGRATE_FAILED",
            "check database_path is on a writable disk; an old database of another box "
            "must be moved away first",
        )


def enrol(
    hub_url: str,
    code: str,
    out_dir: Path,
    *,
    profile: str = "demo-fakes",
    database_path: str = DEFAULT_DATABASE,
    bind: str = DEFAULT_BIND,
    client: HttpClient | None = None,
    migrate: bool = True,
    install: bool = False,
    force: bool = False,
) -> EnrolResult:
    """Enrol this box with the hub and write its config, secret and units into `out_dir`."""
    config_path = out_dir / "box.yaml"
    if config_path.exists() and not force:
        raise EnrolFailed(
            f"{config_path} exists: this box is already enrolled",
            "ALREADY_ENROLLED",
            "to replace it use --force (and move the old box database away)",
        )
    answer = request_identity(client or UrllibClient(), hub_url, code)
    out_dir.mkdir(parents=True, exist_ok=True)
    password_path = out_dir / "mqtt.password"
    overrides = dict(answer["config"])
    overrides["mqtt"] = {**overrides.get("mqtt", {}), "password_file": str(password_path)}
    ca_pem = answer["mqtt"].get("ca_pem")
    ca_path = out_dir / "mqtt-ca.pem"
    if ca_pem:  # the CA the hub gave: the box verifies the broker with it (never plain text)
        overrides["mqtt"].update(tls=True, ca_file=str(ca_path))
    # the URL the tech enrolled through is the one proven reachable from this box
    overrides.update(database_path=database_path, bind=bind, hub_url=hub_url.rstrip("/"))
    config = render_profile(
        profile,
        box_id=answer["box_id"],
        tenant_id=answer["tenant_id"],
        branch_id=answer["branch_id"],
        overrides=overrides,
    )
    write_private(password_path, str(answer["mqtt"]["password"]) + "\n")
    if ca_pem:
        ca_path.write_text(str(ca_pem), encoding="utf-8")
    config_path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    Path(database_path).parent.mkdir(parents=True, exist_ok=True)
    units = write_units(out_dir, config_path)
    if migrate:
        _migrate(config_path)
    if install:
        install_units(units)
    return EnrolResult(answer["box_id"], config_path, password_path, units, migrate)
