"""The device service process: print queue worker, scanner reader, status reconciliation.

One process owns the hardware. Threads: the print worker (durable receipt queue with
retries and backoff), the scanner reader (scans → scan_events for the cashier page),
the DeviceManager (status → device_status) and the control socket (drawer kicks).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from peewee import OperationalError

from appliance.core.db import database
from appliance.devices import store
from appliance.devices.control import ControlServer, dispatch, kick_handler, socket_path
from appliance.devices.driver_spec import devices_spec
from appliance.devices.receipts import doc_from_json
from appliance.devices.scale_reading import weigh_handler
from drivers.base import DeviceError, DeviceUnavailable
from drivers.factory import DeviceSet, NoDevice, build_devices
from drivers.manager import DeviceManager, DeviceReport
from drivers.reconnect import ReconnectingScanner
from firmware_config.schema import BoxConfig, DeviceSettings
from posdomain.obs import log_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSettings:
    """Timing of the service loops."""

    poll: float = 0.3
    reconcile_every: float = 2.0
    retry_base: float = 1.0
    retry_cap: float = 30.0
    max_attempts: int = 20


def retry_delay(attempts: int, settings: ServiceSettings) -> float:
    """Seconds before a failed print job is tried again."""
    return float(min(settings.retry_cap, settings.retry_base * 2 ** min(attempts - 1, 10)))


class DeviceService:
    """Runs the device threads of one box until `stop()`."""

    def __init__(
        self,
        config: BoxConfig,
        devices: DeviceSet | None = None,
        settings: ServiceSettings | None = None,
    ) -> None:
        self.config = config
        self.devices = devices or build_devices(devices_spec(config.devices))
        self.settings = settings or ServiceSettings()
        self.stop_event = threading.Event()
        self.manager = DeviceManager(on_change=self._save_report)
        cfg = config.devices
        for name, device, settings_of in (
            ("printer", self.devices.printer, cfg.printer),
            ("drawer", self.devices.drawer, cfg.drawer),
            ("scanner", self.devices.scanner, cfg.scanner),
            ("scale", self.devices.scale, cfg.scale),
        ):
            if device is not None and not (name == "scale" and settings_of.kind == "none"):
                self.manager.add(name, settings_of.kind, _where(settings_of), device)
        scanner = self.devices.scanner
        if isinstance(scanner, ReconnectingScanner):
            scanner.sleep = self.stop_event.wait  # backoff waits end at shutdown
        self._threads: list[threading.Thread] = []
        self.control: ControlServer | None = None

    def _save_report(self, report: DeviceReport) -> None:
        store.save_status(report.to_dict())
        log_event(
            log,
            "device status",
            name=report.name,
            state=report.status.state,
            detail=report.status.detail,
        )

    def print_next(self) -> bool:
        """Print the oldest due job; True if one printed (False: none due, or it failed)."""
        job = store.claim_due_job()
        if job is None:
            return False
        try:
            doc = doc_from_json(job["payload"])
        except (KeyError, TypeError, ValueError) as err:  # a sale its layout cannot print
            store.settle_job(job["id"], "failed", f"RECEIPT_LAYOUT: {err}"[:300])
            log_event(log, "print job failed", logging.WARNING, job_id=job["id"], error=str(err))
            return False
        try:
            self.devices.printer.print_receipt(doc)
        except DeviceError as err:
            self._job_failed(job, err)
            return False
        store.settle_job(job["id"], "done", None)
        log_event(log, "print job done", job_id=job["id"], ref=job["ref"], copy_no=job["copy_no"])
        return True

    def _job_failed(self, job: dict[str, object], err: DeviceError) -> None:
        attempts = int(str(job["attempts"]))
        self.manager.note_error("printer", err)
        error = f"{err.code}: {err.message}"
        if attempts >= self.settings.max_attempts:
            store.settle_job(int(str(job["id"])), "failed", error)
        else:
            delay = retry_delay(attempts, self.settings)
            store.settle_job(int(str(job["id"])), "queued", error, retry_in=delay)
        log_event(
            log,
            "print job failed",
            logging.WARNING,
            job_id=job["id"],
            attempts=attempts,
            error=error,
        )

    def read_scan(self) -> str | None:
        """Read one scan (waiting up to `poll`) and store it for the cashier screen."""
        try:
            code = self.devices.scanner.read(self.settings.poll)
        except DeviceUnavailable as err:
            self.manager.note_error("scanner", err)
            self.stop_event.wait(self.settings.reconcile_every)
            return None
        except DeviceError as err:  # garbled read: tell the health page, keep reading
            self.manager.note_error("scanner", err)
            return None
        if code:
            store.add_scan(code, "scanner")
            log_event(log, "scan", length=len(code))
        return code

    def heartbeat(self) -> None:
        """Tell the web app the service is alive."""
        store.save_status(
            {"name": store.SERVICE_ROW, "kind": "service", "state": "online", "online": True}
        )

    def _loop(self, step: Callable[[], object], idle: float | None = None) -> None:
        database.connect(reuse_if_open=True)
        try:
            while not self.stop_event.is_set():
                try:
                    busy = step()
                except OperationalError as err:  # database busy: try again shortly
                    log_event(log, "device loop step failed", logging.WARNING, error=str(err))
                    busy = False
                if idle is not None and not busy:
                    self.stop_event.wait(idle)
        finally:
            database.close()

    def _reconcile(self) -> None:
        database.connect(reuse_if_open=True)
        try:
            while not self.stop_event.is_set():
                try:
                    self.manager.run(self.stop_event, self.settings.reconcile_every)
                except OperationalError as err:  # database busy: next round
                    log_event(log, "status not saved", logging.WARNING, error=str(err))
                    self.stop_event.wait(self.settings.reconcile_every)
        finally:
            database.close()

    def start(self) -> None:
        """Start every thread and the control socket."""
        with database.connection_context():
            requeued = store.requeue_interrupted()
        if requeued:
            log_event(log, "requeued interrupted print jobs", count=requeued)
        note = self.manager.note_error
        handlers = {
            "kick": kick_handler(self.devices.drawer, lambda e: note("drawer", e)),
            "weigh": weigh_handler(self.devices.scale, lambda e: note("scale", e)),
        }
        self.control = ControlServer(socket_path(self.config.database_path), dispatch(handlers))
        self.control.start()
        self.manager.start_udev()
        targets: list[Callable[[], None]] = [
            lambda: self._loop(self.print_next, self.settings.poll),
            lambda: self._loop(self.heartbeat, self.settings.reconcile_every),
            self._reconcile,
        ]
        if not isinstance(self.devices.scanner, NoDevice):
            targets.append(lambda: self._loop(self.read_scan))
        for target in targets:
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the threads and the control socket."""
        self.stop_event.set()
        self.manager.wake.set()
        self.manager.stop_udev()
        if self.control is not None:
            self.control.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    def run(self) -> None:
        """Start, then block until stop() is called (e.g. from a signal handler)."""
        self.start()
        self.stop_event.wait()
        self.stop()


def _where(settings: DeviceSettings) -> str:
    """Path or host:port of a device for the health page."""
    if settings.path:
        return settings.path
    if settings.host:
        return f"{settings.host}:{settings.port or 9100}"
    return ""
