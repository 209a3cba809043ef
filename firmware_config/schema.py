"""The store box's configuration file (YAML or JSON), validated with clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from posdomain.envelope import pydantic_errors
from posdomain.errors import Reason, ValidationError

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(_Cfg):
    """Broker endpoint and this box's credentials (password from a file, never inline in git)."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password_file: str | None = None
    keepalive: int = Field(default=30, ge=5, le=600)
    tls: bool = False


class DeviceSettings(_Cfg):
    """One device: its driver kind and transport options."""

    kind: Literal["fake", "usb", "serial", "network", "file", "evdev", "none"] = "fake"
    path: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    options: dict[str, Any] = {}


class Devices(_Cfg):
    """The device map: what is attached to this box."""

    printer: DeviceSettings = DeviceSettings()
    drawer: DeviceSettings = DeviceSettings()
    scanner: DeviceSettings = DeviceSettings()
    scale: DeviceSettings = DeviceSettings(kind="none")


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
    pin_max_failures: int = Field(default=5, ge=1, le=20)
    pin_lockout_minutes: int = Field(default=5, ge=1, le=1440)


def parse_box_config(data: object) -> BoxConfig:
    """Validate a decoded config mapping, turning schema errors into a ValidationError."""
    try:
        return BoxConfig.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "box configuration is invalid",
            Reason.VALIDATION_FAILED,
            {"errors": pydantic_errors(err)},
        ) from err


def load_box_config(path: str | Path) -> BoxConfig:
    """Read and validate a YAML/JSON box config file."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ValidationError(f"{path}: not valid YAML/JSON: {err}", Reason.MALFORMED_JSON) from err
    return parse_box_config(data)
