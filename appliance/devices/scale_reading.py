"""The attached scale, read for a weighed line through the device service (control socket).

Only the device service opens the scale's serial port; the web app asks it for one reading
(`weigh`) and gets back a stable weight in kg or the device's reason code (SCALE_MOTION,
SCALE_OVER_CAPACITY, SCALE_UNDER_ZERO, SCALE_FAULT, DEVICE_UNAVAILABLE, ...). A reading of
zero (empty platter) is SCALE_EMPTY: a till never sells a weight it did not measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from appliance.devices.control import Handler, ask, socket_path
from drivers.base import DeviceError
from drivers.factory import NoDevice
from drivers.scale import Scale

READ_TIMEOUT_S = 2.0  # a Toledo 8217 answers within a few hundred ms; its own timeout is 1 s
EMPTY = "SCALE_EMPTY"


@dataclass(frozen=True)
class ScaleReading:
    """A stable weight in kg (`weight`), or why there is none (`problem`, a reason code)."""

    weight: Decimal | None = None
    problem: str | None = None


def read_scale(database_path: str, timeout: float = READ_TIMEOUT_S) -> ScaleReading:
    """Ask the device service of the box at `database_path` for one stable weight."""
    answer = ask(socket_path(database_path), {"cmd": "weigh"}, timeout)
    if not answer.get("ok"):
        return ScaleReading(problem=str(answer.get("code") or "DEVICE_ERROR"))
    try:
        weight = Decimal(str(answer.get("weight")))
    except InvalidOperation:
        return ScaleReading(problem="GARBLED_READ")
    if not weight.is_finite() or weight < 0:
        return ScaleReading(problem="GARBLED_READ")
    return ScaleReading(problem=EMPTY) if weight == 0 else ScaleReading(weight=weight)


def weigh_handler(
    scale: Scale | NoDevice | None, on_error: Callable[[DeviceError], object]
) -> Handler:
    """Serve `weigh` requests with the box's scale (the device service side)."""

    def handle(body: dict[str, Any]) -> dict[str, Any]:
        if scale is None or isinstance(scale, NoDevice):
            return {"ok": False, "code": "DEVICE_UNAVAILABLE", "message": "no scale configured"}
        try:
            reading = scale.weigh()
        except DeviceError as err:
            on_error(err)
            return {"ok": False, "code": err.code, "message": err.message}
        if reading.unit != "kg":
            return {"ok": False, "code": "DEVICE_ERROR", "message": f"scale weighs {reading.unit}"}
        return {"ok": True, "weight": str(reading.value), "unit": "kg"}

    return handle
