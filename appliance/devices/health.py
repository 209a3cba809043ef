"""What the web app and the heartbeat read about devices (written by the device service)."""

from __future__ import annotations

from typing import Any

from appliance.devices import store

NOT_RUNNING = "device service not running"


def device_list() -> list[dict[str, Any]]:
    """Every device's latest report; all offline if the device service is not running."""
    alive = store.service_alive()
    rows = []
    for row in store.device_rows():
        entry = {**row, "online": bool(row["online"])}
        if not alive:
            entry.update(state="offline", online=False, detail=NOT_RUNNING)
        rows.append(entry)
    return rows


def device_summary() -> dict[str, Any]:
    """Compact form for the status endpoint and the heartbeat: {name: state} + service."""
    summary: dict[str, Any] = {"service": store.service_alive()}
    for row in device_list():
        summary[row["name"]] = {"state": row["state"], "detail": row["detail"]}
    summary["print_queue"] = store.queue_depth()
    return summary


def devices_report() -> dict[str, Any]:
    """Full hardware report for GET /api/v1/devices and the hardware page."""
    return {
        "service": store.service_alive(),
        "devices": device_list(),
        "print_queue": store.queue_depth(),
        "jobs": store.recent_jobs(10),
    }
