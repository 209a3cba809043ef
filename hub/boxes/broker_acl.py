"""Per-box MQTT credentials and ACLs for Mosquitto (NFR-005).

Passwords are hashed in Mosquitto's own `$7$` format (PBKDF2-SHA512, base64 salt and
hash), so the hub stores exactly what the broker's `password_file` needs and never keeps a
plaintext. `mosquitto_passwd` makes the hash when it is installed (fed on stdin, never on
the command line where `ps` would show it); otherwise the same format is computed here.

Each box may write only its own `events|status|req` and read only its own `ack|flow|down/#`
(and the hub ingest workers' statuses); the hub ingest user reads every box's
`events|status|req` and writes every `ack|flow|down/#` and its workers' statuses. With
MQTT 3.1.1 a publish the ACL refuses is still PUBACKed and silently dropped (PITFALLS
"Sync"), which is why only the hub's own BatchAck ever marks an outbox row delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from posdomain import topics
from posdomain.obs import log_event

log = logging.getLogger(__name__)

HUB_USER = "cfpos-hub-ingest"
PBKDF2_ITERATIONS = 101  # Mosquitto 2.0's default for `$7$`
SALT_BYTES = 12
PASSWD_TOOL = "mosquitto_passwd"  # noqa: S105 - a program name
# PITFALLS "Sync": past max_queued_messages (default 1000) Mosquitto drops messages for a
# slow subscriber while publishers still get PUBACK; the ingest worker can fall behind when
# many boxes flush a week's backlog at once, so the limit is raised well above a backlog.
MAX_QUEUED_MESSAGES = 200_000
SESSION_EXPIRY = "30d"  # well past NFR-002's 7 days offline


@dataclass(frozen=True)
class MqttUser:
    """One broker login: a box (box_id set) or the hub ingest worker (box_id None)."""

    username: str
    password_hash: str
    box_id: str | None = None


def new_password() -> str:
    """A random MQTT password (returned once at enrolment, never stored in clear)."""
    return secrets.token_urlsafe(24)


def python_hash(password: str, salt: bytes | None = None) -> str:
    """Mosquitto `$7$` PBKDF2-SHA512 hash computed in Python."""
    salt = salt or secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    b64 = base64.b64encode
    return f"$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def tool_hash(password: str) -> str | None:
    """The hash made by `mosquitto_passwd` (password on stdin), or None if it is unusable."""
    tool = shutil.which(PASSWD_TOOL) or (
        "/usr/bin/mosquitto_passwd" if Path("/usr/bin/mosquitto_passwd").exists() else None
    )
    if tool is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passwd"
        res = subprocess.run(
            [tool, "-c", str(path), "hash"],
            input=f"{password}\n{password}\n",
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if res.returncode != 0 or not path.exists():
            return None
        line = path.read_text().strip()
    _user, _, hashed = line.partition(":")
    return hashed if hashed.startswith("$7$") else None


def hash_password(password: str) -> str:
    """Hash for the broker's password file: `mosquitto_passwd` if present, else Python."""
    hashed = tool_hash(password)
    if hashed is None:
        log_event(log, "mosquitto_passwd not usable; hashing $7$ in Python", logging.INFO)
        return python_hash(password)
    return hashed


def verify_password(stored: str, password: str) -> bool:
    """True if `password` matches a `$7$` hash (used for box HTTP basic auth)."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, expected = int(parts[2]), base64.b64decode(parts[3]), parts[4]
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return hmac.compare_digest(base64.b64encode(digest).decode(), expected)


def password_file_text(users: list[MqttUser]) -> str:
    """Mosquitto `password_file` content: `user:hash` per line."""
    return "".join(f"{u.username}:{u.password_hash}\n" for u in users)


def _box_rules(box_id: str) -> list[str]:
    return [
        f"topic write {topics.box_events(box_id)}",
        f"topic write {topics.box_status(box_id)}",
        f"topic write {topics.box_request(box_id)}",
        f"topic read {topics.box_ack(box_id)}",
        f"topic read {topics.box_flow(box_id)}",
        f"topic read {topics.box_down(box_id, '#')}",
        f"topic read {topics.ALL_HUB_INGEST_STATUS}",
    ]


def _hub_rules() -> list[str]:
    return [
        f"topic read {topics.ALL_BOX_EVENTS}",
        f"topic read {topics.ALL_BOX_STATUS}",
        f"topic read {topics.ALL_BOX_REQUESTS}",
        f"topic write {topics.box_ack('+')}",
        f"topic write {topics.box_flow('+')}",
        f"topic write {topics.box_down('+', '#')}",
        # read too: partitioned workers take over the boxes of an absent one (takeover.py)
        f"topic readwrite {topics.ALL_HUB_INGEST_STATUS}",
        f"topic readwrite {topics.ALL_HUB_INGEST_BEATS}",
    ]


def acl_text(users: list[MqttUser], generated_at: datetime) -> str:
    """Mosquitto `acl_file` content: no anonymous rules, one block per user."""
    out = [
        "# generated by `python -m hub mqtt-config` — do not edit, regenerate instead",
        f"# {generated_at.isoformat(timespec='seconds')}; anonymous clients get no rules",
        "",
    ]
    for user in users:
        rules = _hub_rules() if user.box_id is None else _box_rules(user.box_id)
        out += [f"user {user.username}", *rules, ""]
    return "\n".join(out)


def conf_text(
    out_dir: Path,
    *,
    port: int = 1883,
    bind: str | None = None,
    run_as: str | None = None,
    persistence_dir: Path | None = None,
) -> str:
    """A mosquitto.conf using the generated files (include it, or use it as is)."""
    lines = [
        "# generated by `python -m hub mqtt-config` (NFR-005: per-box credentials and ACLs)",
        "per_listener_settings false",
        f"listener {port}{f' {bind}' if bind else ''}",
        "protocol mqtt",
        "allow_anonymous false",
        f"password_file {out_dir / 'passwd'}",
        f"acl_file {out_dir / 'acl'}",
        "# PITFALLS 'Sync': the default of 1000 queued messages per client silently drops a slow",
        "# subscriber's messages while publishers still get PUBACK; raise it above any backlog.",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        "max_inflight_messages 100",
        "# a session nobody resumes (a replaced box, a worker's id from before an upgrade or a",
        "# new partition count) stops queueing after this; the outbox resends what it lacked",
        f"persistent_client_expiration {SESSION_EXPIRY}",
    ]
    if persistence_dir is not None:
        lines += ["persistence true", f"persistence_location {persistence_dir}/"]
    if run_as:
        lines.append(f"user {run_as}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def hub_user(out_dir: Path) -> MqttUser:
    """The ingest worker's login: its password kept in `hub-ingest.password` (made once)."""
    pw_path = out_dir / "hub-ingest.password"
    if not pw_path.exists():
        write_private(pw_path, new_password() + "\n")
    password = pw_path.read_text(encoding="utf-8").strip()
    return MqttUser(HUB_USER, python_hash(password))


def write_broker_files(
    out_dir: Path,
    box_users: list[MqttUser],
    generated_at: datetime,
    *,
    port: int = 1883,
    bind: str | None = None,
    run_as: str | None = None,
) -> dict[str, str]:
    """Write passwd, acl, mosquitto.conf (and the hub's password) into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    users = [hub_user(out_dir), *box_users]
    write_private(out_dir / "passwd", password_file_text(users))
    write_private(out_dir / "acl", acl_text(users, generated_at))
    conf = conf_text(out_dir, port=port, bind=bind, run_as=run_as)
    (out_dir / "mosquitto.conf").write_text(conf, encoding="utf-8")
    return {
        "passwd": str(out_dir / "passwd"),
        "acl": str(out_dir / "acl"),
        "conf": str(out_dir / "mosquitto.conf"),
        "hub_password_file": str(out_dir / "hub-ingest.password"),
        "users": str(len(users)),
    }
