"""The store box's configuration file (YAML or JSON), validated with clear errors.

Every problem names the field path, what is wrong and what to write instead
(`firmware_config.problems`). Device paths must be stable: evdev under
`/dev/input/by-id/` or `/dev/input/by-path/`, serial under `/dev/serial/by-id/` or
`/dev/serial/by-path/` (a `/dev/pts/N` pseudo-terminal is accepted for tests) — USB
numbering changes across reboots (PITFALLS "Devices").
"""

from __future__ import annotations

import json
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from firmware_config.problems import describe
from posdomain.contract import field_details
from posdomain.errors import Reason, ValidationError

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
EVDEV_PREFIXES = ("/dev/input/by-id/", "/dev/input/by-path/")
SERIAL_PREFIXES = ("/dev/serial/by-id/", "/dev/serial/by-path/", "/dev/pts/")
# which driver kinds make sense for which device role
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "printer": ("fake", "usb", "serial", "network", "file", "none"),
    "drawer": ("fake", "usb", "serial", "network", "file", "none"),
    "scanner": ("fake", "evdev", "serial", "none"),
    "scale": ("fake", "serial", "none"),
}
# kinds that cannot work without a device path
NEEDS_PATH = frozenset({"evdev", "file"})
LOCALE_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class BrokerEndpoint(_Cfg):
    """One more node of a clustered broker (same credentials and TLS settings)."""

    host: str
    port: int = Field(default=1883, ge=1, le=65535)


class MqttSettings(_Cfg):
    """Broker endpoint and this box's credentials (password from a file, never inline in git)."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    # the other nodes of a clustered broker (docs/scaling.md): when the connection is lost or
    # a connect fails the box tries the next endpoint in turn (host first, then these), so a
    # dead node does not stop its boxes; empty for a single broker (Mosquitto, the default)
    failover: list[BrokerEndpoint] = []
    username: str | None = None
    password_file: str | None = None
    keepalive: int = Field(default=30, ge=5, le=600)
    # MQTT over TLS (docs/security.md): the chain is always verified against `ca_file` (the CA
    # written at enrolment; None: the system's CAs), the hostname unless switched off; a
    # refused certificate never falls back to plain text
    tls: bool = False
    ca_file: str | None = None
    tls_verify_hostname: bool = True

    def endpoints(self) -> list[tuple[str, int]]:
        """Every broker endpoint in the order the box tries them: host, then failover."""
        return [(self.host, self.port), *((e.host, e.port) for e in self.failover)]

    @model_validator(mode="after")
    def _tls_off_loopback(self) -> MqttSettings:
        """Plain MQTT only to a broker on this machine: sales never cross a network in clear."""
        if self.tls:
            return self
        for n, (host, _port) in enumerate(self.endpoints()):
            if host not in LOOPBACK_HOSTS:
                where = "mqtt.host" if n == 0 else f"mqtt.failover[{n - 1}].host"
                raise ValueError(
                    f"{where} {host!r} is not on this machine: set mqtt.tls: true, "
                    "mqtt.port: 8883 and mqtt.ca_file (the CA written at enrolment)"
                )
        return self


class DeviceSettings(_Cfg):
    """One device: its driver kind and transport options."""

    kind: Literal["fake", "usb", "serial", "network", "file", "evdev", "none"] = "fake"
    path: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _stable_path(self) -> DeviceSettings:
        """evdev and serial devices must be addressed by a stable path."""
        if self.path is None:
            return self
        if self.kind == "evdev" and not self.path.startswith(EVDEV_PREFIXES):
            raise ValueError(
                f"evdev path {self.path!r} is not stable: use /dev/input/by-id/... or "
                "/dev/input/by-path/... (event numbers change across reboots)"
            )
        if self.kind == "serial" and not self.path.startswith(SERIAL_PREFIXES):
            raise ValueError(
                f"serial path {self.path!r} is not stable: use /dev/serial/by-id/... or "
                "/dev/serial/by-path/... (ttyUSB numbers change across reboots)"
            )
        return self


class Devices(_Cfg):
    """The device map: what is attached to this box."""

    printer: DeviceSettings = DeviceSettings()
    drawer: DeviceSettings = DeviceSettings()
    scanner: DeviceSettings = DeviceSettings()
    scale: DeviceSettings = DeviceSettings(kind="none")

    @model_validator(mode="after")
    def _kinds_fit_roles(self) -> Devices:
        """A scanner cannot be a network printer, an evdev device must have a path, etc."""
        for role, allowed in ROLE_KINDS.items():
            dev: DeviceSettings = getattr(self, role)
            if dev.kind not in allowed:
                raise ValueError(
                    f"devices.{role}.kind {dev.kind!r} is not usable for a {role}; "
                    f"allowed: {', '.join(allowed)}"
                )
            if role == "drawer":
                continue  # an ESC/POS drawer without its own path/host hangs off the printer
            if dev.kind in NEEDS_PATH and not dev.path:
                raise ValueError(f"devices.{role}: kind {dev.kind!r} needs a path")
            if dev.kind == "network" and not dev.host:
                raise ValueError(f"devices.{role}: kind 'network' needs a host")
        return self


class BoxConfig(_Cfg):
    """Everything a box needs to start: identity, endpoints, storage, devices, locale."""

    box_id: str = Field(pattern=_ID)
    tenant_id: str = Field(pattern=_ID)
    branch_id: str = Field(pattern=_ID)
    till_name: str = "Till 1"
    hub_url: str = "http://127.0.0.1:8000"
    mqtt: MqttSettings = MqttSettings()
    database_path: str = "var/box/box.sqlite3"
    bind: str = "127.0.0.1:8100"
    locale: str = "en"
    timezone: str = "UTC"
    devices: Devices = Devices()
    secret_key_file: str | None = None
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    session_idle_minutes: int = Field(default=15, ge=1, le=720)
    # absolute lifetime of a PIN session however busy the till: one shift (FR-001)
    session_shift_hours: int = Field(default=10, ge=1, le=24)
    pin_max_failures: int = Field(default=5, ge=1, le=20)
    pin_lockout_minutes: int = Field(default=5, ge=1, le=1440)
    profile: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,64}$")
    # box backups (FR-700): VACUUM INTO files in backup_dir (default: `backups/` beside the
    # database), every backup_interval_minutes from the sync process, the newest backup_keep kept
    backup_dir: str | None = None
    backup_interval_minutes: int = Field(default=60, ge=5, le=24 * 60)
    backup_keep: int = Field(default=7, ge=1, le=100)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name the box's zoneinfo database knows."""
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'"
            ) from err
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        """A language tag such as 'en', 'de' or 'de-AT' (missing texts fall back to English)."""
        if not LOCALE_RE.match(value):
            raise ValueError(f"locale {value!r} is not a language tag: write e.g. 'en', 'de-AT'")
        return value

    @field_validator("hub_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """The hub is reached over http(s)."""
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"hub_url {value!r} must start with http:// or https://")
        return value.rstrip("/")


def parse_box_config(data: object) -> BoxConfig:
    """Validate a decoded config mapping, turning schema errors into a ValidationError.

    The error's details carry `errors` (field/problem pairs) and `problems`: one
    human sentence per problem saying what to fix.
    """
    try:
        return BoxConfig.model_validate(data)
    except PydanticValidationError as err:
        problems = describe(err, BoxConfig)
        raise ValidationError(
            "box configuration is invalid: " + "; ".join(problems),
            Reason.VALIDATION_FAILED,
            field_details(err, problems=problems),
        ) from err


def read_config_data(path: str | Path) -> Any:
    """The decoded YAML/JSON of a config file (MALFORMED_JSON if it does not parse)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ValidationError(f"{path}: not valid YAML/JSON: {err}", Reason.MALFORMED_JSON) from err


def load_box_config(path: str | Path) -> BoxConfig:
    """Read and validate a YAML/JSON box config file."""
    return parse_box_config(read_config_data(path))
