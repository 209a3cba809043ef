"""Typed hub settings, read once: STAGING/PROD refuse to start without their secrets, and every
process of a DEV hub agrees on one session secret (no random per-process secret)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hub.settings import DEV_SECRET, SettingsError, load_settings
from scripts.demo import ROOT

STRONG = "x" * 40


@pytest.mark.req("NFR-005")
@pytest.mark.parametrize("env", ["STAGING", "PROD", "prod"])
def test_staging_and_prod_refuse_to_start_without_their_secrets(env: str) -> None:
    with pytest.raises(SettingsError, match="CFPOS_HUB_SECRET_KEY and CFPOS_HUB_CHECKPOINT_KEY"):
        load_settings(env=env)
    with pytest.raises(SettingsError, match="CFPOS_HUB_CHECKPOINT_KEY"):
        load_settings(env=env, hub_secret_key=STRONG)
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings(env=env, hub_secret_key="short", hub_checkpoint_key=STRONG)
    ok = load_settings(env=env, hub_secret_key=STRONG, hub_checkpoint_key=STRONG + "y")
    assert (ok.secret_key, ok.checkpoint_key) == (STRONG, STRONG + "y")


def test_dev_uses_one_fixed_secret_not_a_random_one() -> None:
    first, second = load_settings(env="DEV"), load_settings(env="DEV")
    assert first.secret_key == second.secret_key == DEV_SECRET


def test_bad_values_are_refused_with_the_setting_named() -> None:
    with pytest.raises(SettingsError, match="hub_idle_timeout"):
        load_settings(hub_idle_timeout=5)
    with pytest.raises(SettingsError, match="env"):
        load_settings(env="QA")


@pytest.mark.req("NFR-005")
def test_the_hub_cli_and_app_factory_refuse_a_prod_start_with_a_clear_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CFPOS_")}
    env["CFPOS_ENV"] = "PROD"
    cli = subprocess.run(
        [sys.executable, "-m", "hub", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert cli.returncode == 2
    assert "PROD hub refuses to start: set CFPOS_HUB_SECRET_KEY" in cli.stderr
    factory = subprocess.run(
        [sys.executable, "-c", "from hub.app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert factory.returncode != 0
    assert "PROD hub refuses to start" in factory.stderr
