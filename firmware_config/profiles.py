"""Hardware profiles: YAML device maps in `profiles/` merged under one box's identity."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from firmware_config.schema import BoxConfig, parse_box_config
from posdomain.errors import Reason, ValidationError

PROFILE_DIR = Path(__file__).with_name("profiles")
IDENTITY_KEYS = ("box_id", "tenant_id", "branch_id")


def profile_names() -> list[str]:
    """Every shipped profile name (file stem), sorted."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name: str) -> dict[str, Any]:
    """The profile's mapping without its description (ValidationError for an unknown name)."""
    path = PROFILE_DIR / f"{name}.yaml"
    if not path.is_file():
        names = profile_names()
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise ValidationError(
            f"unknown hardware profile '{name}'{hint} (available: {', '.join(names)})",
            Reason.VALIDATION_FAILED,
            {"available": names},
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.pop("description", None)
    for key in IDENTITY_KEYS:
        if key in data:
            raise ValidationError(f"profile {name} must not set {key}", Reason.VALIDATION_FAILED)
    return dict(data)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, merging nested mappings key by key (new dict)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def render_profile(
    name: str,
    *,
    box_id: str,
    tenant_id: str,
    branch_id: str,
    overrides: dict[str, Any] | None = None,
) -> BoxConfig:
    """A validated BoxConfig: profile, then `overrides` (e.g. enrolment data), then identity."""
    data = deep_merge(load_profile(name), overrides or {})
    data.update(box_id=box_id, tenant_id=tenant_id, branch_id=branch_id, profile=name)
    return parse_box_config(data)
