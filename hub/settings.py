"""Hub settings: typed, read once from CFPOS_* environment variables, failing fast.

This is the only hub module that reads the environment. Every process (gunicorn workers,
the ingest worker, the CLI) builds the same `HubSettings`, so two workers or a restart never
disagree about a secret. In STAGING and PROD the hub refuses to start without its session
secret and audit checkpoint key; in DEV it falls back to fixed, loudly logged development
values (never random per process, so gunicorn workers share sessions).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "postgresql://cfpos_app@127.0.0.1:5432/cfpos_hub"
DEFAULT_LATE_WINDOW_S = 15 * 60
# DEV only: stable across processes so a DEV hub under gunicorn keeps one session secret
DEV_SECRET = "cfpos-dev-only-secret-never-use-in-staging-or-prod"  # noqa: S105


class SettingsError(RuntimeError):
    """The environment does not describe a hub that may start (message says what to set)."""


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class HubSettings(BaseSettings):
    """Everything the hub reads from its environment, validated once."""

    model_config = SettingsConfigDict(env_prefix="CFPOS_", extra="ignore", frozen=True)

    env: Literal["DEV", "STAGING", "PROD"] = "DEV"
    hub_database_url: str = DEFAULT_DATABASE_URL
    hub_admin_database_url: str | None = None
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    # the other nodes of a clustered broker, comma-separated URLs with the scheme of mqtt_url:
    # the ingest worker moves to the next after a lost connection or a failed connect
    mqtt_failover: str | None = None
    mqtt_username: str | None = None
    mqtt_password_file: Path | None = None
    # MQTT over TLS (docs/security.md): an mqtts:// mqtt_url turns it on; the CA file that
    # signed the broker's certificate (None: the system's CAs); the hostname is checked
    # unless switched off (the chain is always verified, there is no plain-text fallback)
    mqtt_ca_file: Path | None = None
    mqtt_tls_verify_hostname: bool = True
    # the CA a box is given at enrolment to verify the broker (default: mqtt_ca_file); boxes
    # enrolled through an mqtts:// mqtt_public_url (or mqtt_url) get `tls: true` and this CA
    mqtt_box_ca_file: Path | None = None
    hub_secret_key: SecretStr | None = None
    hub_checkpoint_key: SecretStr | None = None
    hub_checkpoint_dir: Path | None = None
    hub_idle_timeout: int = Field(default=900, ge=60, le=24 * 3600)
    # a session ends at the latest this long after login, however busy (P0 probe item 1)
    hub_session_lifetime: int = Field(default=12 * 3600, ge=300, le=7 * 24 * 3600)
    # API tokens: lifetime when the request names none, and the longest one may ask for
    api_token_default_days: int = Field(default=90, ge=1, le=3650)
    api_token_max_days: int = Field(default=365, ge=1, le=3650)
    hub_platform_database_url: str | None = None
    hub_secure_cookies: bool = False
    hub_public_url: str | None = None
    mqtt_public_url: str | None = None
    late_window_seconds: int = Field(default=DEFAULT_LATE_WINDOW_S, ge=1, le=7 * 24 * 3600)
    ingest_client_id: str = Field(default="cfpos-hub-ingest", min_length=1, max_length=64)
    # several ingest workers (docs/scaling.md): each with its own client id subscribes through
    # this MQTT 5 shared-subscription group ($share/<group>/...); unset = one worker, MQTT 3.1.1
    ingest_shared_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # or an explicit partition of the boxes over n workers, for a broker without shared
    # subscriptions (hub/sync/partition.py): worker k of n is "k/n"; its box list is
    # refreshed every ingest_partition_refresh seconds (a newly enrolled box is picked up)
    ingest_partition: str | None = Field(default=None, pattern=r"^\d{1,3}/\d{1,3}$")
    ingest_partition_refresh: float = Field(default=5.0, ge=0.2, le=300)
    # a partitioned worker whose beats (one per refresh) stop for this long is taken for gone
    # and its boxes are taken over (hub/sync/takeover.py; its last will does it at once)
    ingest_partition_stale: float = Field(default=15.0, ge=1, le=3600)
    # a box's batches queued at the worker are applied together, up to this many in one
    # transaction (hub/sync/runs.py; 1: one batch per transaction, as before issue 15's runs)
    ingest_run_batches: int = Field(default=4, ge=1, le=16)
    # ingest integrity (docs/sync-protocol.md "What the hub refuses"): a seq further than this
    # above a box's high-water mark is a conflict, not a gap (a restored hub lags by far less)
    ingest_max_seq_ahead: int = Field(default=1_000_000, ge=1_000, le=2**40)
    # business timestamps outside [earliest, hub now + max future] are refused
    ingest_earliest_event: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    ingest_max_future_seconds: int = Field(default=2 * 24 * 3600, ge=60, le=366 * 24 * 3600)
    hub_host: str = "127.0.0.1"
    hub_port: int = Field(default=8000, ge=1, le=65535)
    demo_box_id: str = "box-downtown-1"
    # operations (FR-500, FR-501, FR-700): see docs/operations.md
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )
    ingest_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_token: SecretStr | None = None
    alert_webhook_allowlist: list[str] = Field(default_factory=list)
    # the tenant compliance export is refused above this many rows (FR-P7-1014)
    compliance_export_max_rows: int = Field(default=5_000_000, ge=1, le=10**9)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "cfpos-alerts@localhost"
    backup_dir: Path = Path("var/backups")
    # published release artifacts (FR-804, docs/releases.md)
    releases_dir: Path = Path("var/releases")
    backup_keep: int = Field(default=14, ge=1, le=1000)
    backup_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    rto_target_seconds: int = Field(default=30 * 60, ge=60, le=24 * 3600)  # NFR-004
    rpo_target_seconds: int = Field(default=15 * 60, ge=60, le=24 * 3600)  # NFR-004

    @model_validator(mode="before")
    @classmethod
    def _upper_env(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("env"), str):
            data = {**data, "env": data["env"].upper()}
        return data

    @model_validator(mode="after")
    def _tls_outside_dev(self) -> HubSettings:
        """Outside DEV, MQTT to a broker off this machine must be mqtts:// (docs/security.md)."""
        if self.env == "DEV":
            return self
        for name, url in (
            ("CFPOS_MQTT_URL", self.mqtt_url),
            *(("CFPOS_MQTT_FAILOVER", u) for u in self.mqtt_failover_urls),
            ("CFPOS_MQTT_PUBLIC_URL", self.mqtt_public_url),
        ):
            if url and not url.startswith("mqtts://") and mqtt_host_port(url)[0] not in LOOPBACK:
                raise ValueError(
                    f"{self.env} hub refuses plain MQTT to another machine: make {name} "
                    "mqtts://host:8883 and set CFPOS_MQTT_CA_FILE"
                )
        return self

    @model_validator(mode="after")
    def _failover_like_the_url(self) -> HubSettings:
        """Failover nodes speak what CFPOS_MQTT_URL speaks (TLS on all or none)."""
        scheme = self.mqtt_url.split("://", 1)[0]
        for url in self.mqtt_failover_urls:
            if url.split("://", 1)[0] != scheme or "://" not in url:
                raise ValueError(f"CFPOS_MQTT_FAILOVER {url!r}: want {scheme}://host:port")
            mqtt_host_port(url)  # a bad port is refused here, not at the first failover
        return self

    @model_validator(mode="after")
    def _ingest_partition_xor_group(self) -> HubSettings:
        if self.ingest_partition and self.ingest_shared_group:
            raise ValueError(
                "CFPOS_INGEST_PARTITION and CFPOS_INGEST_SHARED_GROUP exclude each other"
            )
        if self.ingest_partition:
            k, n = (int(x) for x in self.ingest_partition.split("/"))
            if not 0 <= k < n <= 256:
                raise ValueError(f"CFPOS_INGEST_PARTITION {self.ingest_partition}: want k/n, k < n")
            if self.ingest_partition_stale < 2 * self.ingest_partition_refresh:
                raise ValueError(
                    "CFPOS_INGEST_PARTITION_STALE must be at least twice "
                    "CFPOS_INGEST_PARTITION_REFRESH (a worker beats once per refresh)"
                )
        return self

    @model_validator(mode="after")
    def _secrets_outside_dev(self) -> HubSettings:
        if self.env == "DEV":
            return self
        missing = [
            name
            for name, value in (
                ("CFPOS_HUB_SECRET_KEY", self.hub_secret_key),
                ("CFPOS_HUB_CHECKPOINT_KEY", self.hub_checkpoint_key),
            )
            if value is None or len(value.get_secret_value()) < 32
        ]
        if missing:
            raise ValueError(
                f"{self.env} hub refuses to start: set {' and '.join(missing)} "
                "(at least 32 characters each, the same for every hub process)"
            )
        return self

    @property
    def secret_key(self) -> str:
        """The session-signing secret (DEV: a fixed development value)."""
        return self.hub_secret_key.get_secret_value() if self.hub_secret_key else DEV_SECRET

    @property
    def checkpoint_key(self) -> str:
        """The key signing audit checkpoints (DEV: the session secret)."""
        if self.hub_checkpoint_key is not None:
            return self.hub_checkpoint_key.get_secret_value()
        return self.secret_key

    def mqtt_host_port(self) -> tuple[str, int]:
        """(host, port) of the broker."""
        return mqtt_host_port(self.mqtt_url)

    @property
    def mqtt_failover_urls(self) -> list[str]:
        """The CFPOS_MQTT_FAILOVER URLs in order."""
        return [u.strip() for u in (self.mqtt_failover or "").split(",") if u.strip()]

    def mqtt_endpoints(self) -> list[tuple[str, int]]:
        """Every broker endpoint the ingest worker tries, in order: the URL, then failover."""
        return [mqtt_host_port(u) for u in (self.mqtt_url, *self.mqtt_failover_urls)]

    @property
    def mqtt_tls(self) -> bool:
        """True when the broker URL asks for TLS (mqtts://)."""
        return self.mqtt_url.startswith("mqtts://")

    def flask_config(self) -> dict[str, Any]:
        """The Flask config the hub app starts from."""
        return {
            "DATABASE_URL": self.hub_database_url,
            "ADMIN_DATABASE_URL": self.hub_admin_database_url,
            "MQTT_URL": self.mqtt_url,
            "SECRET_KEY": self.secret_key,
            "CFPOS_ENV": self.env,
            "IDLE_TIMEOUT_SECONDS": self.hub_idle_timeout,
            "SESSION_LIFETIME_SECONDS": self.hub_session_lifetime,
            "API_TOKEN_DEFAULT_DAYS": self.api_token_default_days,
            "API_TOKEN_MAX_DAYS": self.api_token_max_days,
            "WEBHOOK_ALLOWLIST": list(self.alert_webhook_allowlist),
            "COMPLIANCE_EXPORT_MAX_ROWS": self.compliance_export_max_rows,
            "PLATFORM_DATABASE_URL": self.hub_platform_database_url,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "AUDIT_CHECKPOINT_DIR": str(self.hub_checkpoint_dir)
            if self.hub_checkpoint_dir
            else None,
            "AUDIT_CHECKPOINT_KEY": self.checkpoint_key,
            "PUBLIC_URL": self.hub_public_url,
            "MQTT_PUBLIC_URL": self.mqtt_public_url,
            "MQTT_BOX_CA_FILE": self.mqtt_box_ca_file or self.mqtt_ca_file,
            "VALIDATE_AUDIT_ON_START": True,
            "PUBLISH_DOWN": True,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.hub_secure_cookies,
        }


def load_settings(**overrides: Any) -> HubSettings:
    """Read and validate the environment now (SettingsError with a clear message if bad)."""
    try:
        settings = HubSettings(**overrides)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors()
        )
        raise SettingsError(problems) from err
    if settings.env == "DEV" and settings.hub_secret_key is None:
        log.warning("DEV hub: fixed development session secret (set CFPOS_HUB_SECRET_KEY)")
    return settings


@cache
def settings() -> HubSettings:
    """The process's settings, read once."""
    return load_settings()


def mqtt_host_port(url: str) -> tuple[str, int]:
    """(host, port) of an mqtt://host:port or mqtts://host:port URL (8883 for mqtts)."""
    rest = url.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or (8883 if url.startswith("mqtts://") else 1883))
