"""systemd unit files for a provisioned box (written to a directory; `--install` copies them).

* cfpos-box-web: the cashier screen and box API (`python -m appliance serve`).
* cfpos-box-sync: the MQTT sync agent (`python -m appliance sync`).
* cfpos-box-devices: the device service `python -m appliance devices`, provided by the
  appliance's devices module (scanner/scale readers); the unit is harmless where the
  command is not present yet: it fails and systemd reports it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SYSTEMD_DIR = Path("/etc/systemd/system")
UNITS = {
    "cfpos-box-web": ("serve", "Cosmic Forge POS box: cashier screen and API"),
    "cfpos-box-sync": ("sync", "Cosmic Forge POS box: MQTT sync agent"),
    "cfpos-box-devices": ("devices", "Cosmic Forge POS box: device service"),
}


def unit_text(
    command: str, description: str, config_path: Path, python: str, workdir: Path, user: str
) -> str:
    """One service unit running `python -m appliance COMMAND --config CONFIG`."""
    return "\n".join(
        [
            "[Unit]",
            f"Description={description}",
            "After=network-online.target",
            "Wants=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            f"User={user}",
            f"WorkingDirectory={workdir}",
            f"ExecStart={python} -m appliance {command} --config {config_path}",
            "Restart=always",
            "RestartSec=2",
            "# SIGTERM lets the web server and sync agent finish the current request/batch",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=20",
            "NoNewPrivileges=true",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def write_units(
    out_dir: Path, config_path: Path, *, python: str | None = None, user: str = "cfpos"
) -> list[Path]:
    """Write the three unit files into `out_dir/systemd/`; return their paths."""
    target = out_dir / "systemd"
    target.mkdir(parents=True, exist_ok=True)
    workdir = Path(__file__).resolve().parent.parent
    written = []
    for name, (command, description) in UNITS.items():
        path = target / f"{name}.service"
        text = unit_text(command, description, config_path, python or sys.executable, workdir, user)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def install_units(paths: list[Path]) -> None:
    """Copy units into /etc/systemd/system, reload and enable them (needs root)."""
    for path in paths:
        shutil.copy2(path, SYSTEMD_DIR / path.name)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "enable", "--now", *(p.name for p in paths)], check=True)
