"""DeviceManager: periodic reconciliation notices unplug, replug and errors."""

from __future__ import annotations

import importlib.util
import threading

from drivers.base import DeviceUnavailable
from drivers.drawer import FakeDrawer
from drivers.manager import DeviceManager, DeviceReport
from drivers.printer import FakePrinter
from drivers.scanner import FakeScanner


def test_reconcile_reports_changes_and_last_seen() -> None:
    now = [100.0]
    changes: list[DeviceReport] = []
    manager = DeviceManager(wall=lambda: now[0], on_change=changes.append)
    printer, drawer, scanner = FakePrinter(), FakeDrawer(), FakeScanner()
    manager.add("printer", "fake", "", printer)
    manager.add("drawer", "fake", "", drawer)
    manager.add("scanner", "fake", "", scanner)
    manager.reconcile()
    assert [r.status.state for r in changes] == ["online"] * 3
    changes.clear()
    now[0] = 105.0
    manager.reconcile()
    assert changes == [], "an unchanged device is not reported again"
    printer.inject("paper_out")
    scanner.unplug()
    now[0] = 110.0
    manager.reconcile()
    states = {r.name: (r.status.state, r.last_seen) for r in changes}
    assert states == {"printer": ("paper_out", 110.0), "scanner": ("unplugged", 105.0)}
    manager.note_error("drawer", DeviceUnavailable("drawer is unplugged", device="drawer"))
    drawer.inject("unplugged")
    manager.reconcile()
    report = next(r for r in manager.reports() if r.name == "drawer")
    assert report.last_error == "DEVICE_UNAVAILABLE: drawer is unplugged"
    assert report.to_dict()["state"] == "offline"


def test_run_loop_stops_promptly_and_wakes_on_demand() -> None:
    manager = DeviceManager()
    printer = FakePrinter()
    manager.add("printer", "fake", "", printer)
    stop = threading.Event()
    thread = threading.Thread(target=manager.run, args=(stop, 30.0), daemon=True)
    thread.start()
    printer.inject("unplugged")
    manager.wake.set()  # what a udev event does
    for _ in range(100):
        reports = manager.reports()
        if reports and reports[0].status.state == "offline":
            break
        stop.wait(0.02)
    assert manager.reports()[0].status.state == "offline"
    stop.set()
    manager.wake.set()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert manager.start_udev() is (importlib.util.find_spec("pyudev") is not None)
    manager.stop_udev()
