"""Private Mosquitto instances the tests start themselves: an anonymous broker with persistence
and queue limits (fault runs), the same with a TLS-only listener (`tls=` a test PKI from
scripts/testkit/tls.py), or one locked with the hub-generated password/ACL files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hub.boxes import broker_acl
from scripts.demo import free_port
from scripts.testkit.tls import Pki

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class PrivateBroker:
    """Our own Mosquitto on a free loopback port; stop/start keep its persistence folder."""

    folder: Path
    max_queued_messages: int = 1000
    max_inflight_messages: int = 20
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    conf_path: Path | None = None  # a ready conf (e.g. hub-generated ACLs) instead of ours
    tls: Pki | None = None  # the listener speaks only TLS with this server certificate

    @property
    def url(self) -> str:
        """mqtt:// (mqtts:// with TLS) URL for CFPOS_MQTT_URL."""
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's log file."""
        return self.folder / "mosquitto.log"

    def _write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "data").mkdir(exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            *self._tls_lines(),
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.folder / 'data'}/",
            "autosave_interval 1",
            f"max_queued_messages {self.max_queued_messages}",
            f"max_inflight_messages {self.max_inflight_messages}",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def _tls_lines(self) -> list[str]:
        if self.tls is None:
            return []
        return [
            f"cafile {self.tls.ca_cert}",
            f"certfile {self.tls.server_cert}",
            f"keyfile {self.tls.server_key}",
            "tls_version tlsv1.2",
        ]

    def start(self) -> None:
        """Start (or restart) the broker and wait until it accepts connections."""
        if not Path(MOSQUITTO).exists():
            raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
        conf = self.conf_path or self._write_config()
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "mosquitto.out").open("ab") as out:  # the child keeps its own copy
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=out, stderr=out)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.startup_output()) from None
                time.sleep(0.05)
        raise RuntimeError("private mosquitto did not start")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: Mosquitto writes its persistence file) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def startup_output(self) -> str:
        """What the broker printed or logged (for a failed start)."""
        texts = [
            path.read_text(errors="replace")
            for path in (self.folder / "mosquitto.out", self.log_path)
            if path.exists()
        ]
        return "\n".join(texts) or "mosquitto exited without output"

    def dropped_messages(self) -> bool:
        """True if the broker logged dropping outgoing messages (max_queued_messages hit)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "being dropped" in text


@dataclass
class AclBroker:
    """A running private Mosquitto locked with hub-generated ACLs, and the hub's password."""

    port: int
    out_dir: Path
    hub_password: str


@contextmanager
def acl_broker(tmp: Path, users: list[broker_acl.MqttUser]) -> Iterator[AclBroker]:
    """Start our own Mosquitto with generated passwd/acl/conf on a free port; stop it after."""
    port = free_port()
    run_as = "root" if os.geteuid() == 0 else None
    broker_acl.write_broker_files(
        tmp, users, datetime.now(UTC), port=port, bind="127.0.0.1", run_as=run_as
    )
    broker = PrivateBroker(tmp, port=port, conf_path=tmp / "mosquitto.conf")
    broker.start()
    try:
        yield AclBroker(port, tmp, (tmp / "hub-ingest.password").read_text().strip())
    finally:
        broker.stop()
