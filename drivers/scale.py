"""Checkout scales speaking the Toledo 8217 protocol over a serial port, and a fake.

The host sends `W`; the scale answers within a few hundred milliseconds with either

* a weight:  STX, the weight in ASCII digits (``01.234`` or ``01234`` with implied
  decimals), CR - only sent when the weight is stable and in range; or
* a status:  STX, ``?``, one status byte (optionally a second), CR, where the bits of
  the first byte are 0 motion, 1 at zero, 2 RAM error, 3 EEPROM error,
  4 under capacity (below zero), 5 over capacity, 6 ROM error, 7 faulty calibration.

A till must never sell a weight taken while the platter moves or out of range, so
`weigh()` returns only a stable, in-range weight and raises otherwise.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

import serial

from drivers.base import (
    PORT_ERRORS,
    DeviceError,
    DeviceStatus,
    DeviceTimeout,
    DeviceUnavailable,
    GarbledRead,
)

STX, CR, QUERY = b"\x02", b"\r", b"?"
WEIGH = b"W"
MOTION, AT_ZERO, RAM_ERROR, EEPROM_ERROR = 0x01, 0x02, 0x04, 0x08
UNDER_CAPACITY, OVER_CAPACITY, ROM_ERROR, CALIBRATION_ERROR = 0x10, 0x20, 0x40, 0x80
HARDWARE_ERRORS = RAM_ERROR | EEPROM_ERROR | ROM_ERROR | CALIBRATION_ERROR


class ScaleMotion(DeviceError):
    """The weight is not settled yet: ask again in a moment."""

    code = "SCALE_MOTION"


class ScaleOverCapacity(DeviceError):
    """More than the scale may weigh."""

    code = "SCALE_OVER_CAPACITY"


class ScaleUnderZero(DeviceError):
    """Below zero: the scale needs zeroing (empty platter, press zero)."""

    code = "SCALE_UNDER_ZERO"


class ScaleFault(DeviceError):
    """The scale reports a hardware error (RAM, EEPROM, ROM, calibration)."""

    code = "SCALE_FAULT"


@dataclass(frozen=True)
class ScaleStatus:
    """The decoded first status byte of a `?` reply."""

    bits: int

    @property
    def motion(self) -> bool:
        """The platter is moving."""
        return bool(self.bits & MOTION)

    @property
    def at_zero(self) -> bool:
        """The scale shows zero."""
        return bool(self.bits & AT_ZERO)

    @property
    def under_capacity(self) -> bool:
        """Below zero."""
        return bool(self.bits & UNDER_CAPACITY)

    @property
    def over_capacity(self) -> bool:
        """Above capacity."""
        return bool(self.bits & OVER_CAPACITY)

    @property
    def hardware_error(self) -> bool:
        """Any RAM, EEPROM, ROM or calibration error bit."""
        return bool(self.bits & HARDWARE_ERRORS)

    def raise_for(self, device: str) -> None:
        """Raise the error this status means for a sale (nothing for plain at-zero)."""
        if self.hardware_error:
            raise ScaleFault(f"scale error bits 0x{self.bits:02x}", device=device)
        if self.over_capacity:
            raise ScaleOverCapacity("over capacity", device=device)
        if self.under_capacity:
            raise ScaleUnderZero("below zero: zero the scale", device=device)
        if self.motion:
            raise ScaleMotion("weight not stable", device=device)


@dataclass(frozen=True)
class Weight:
    """A stable weight in the scale's unit."""

    value: Decimal
    unit: str = "kg"


def parse_reply(raw: bytes, *, decimals: int = 3, unit: str = "kg") -> Weight | ScaleStatus:
    """Decode one reply frame (STX ... CR) into a Weight or a ScaleStatus."""
    if not (raw.startswith(STX) and raw.endswith(CR)) or len(raw) < 3:
        raise GarbledRead(f"not an 8217 frame: {raw!r}", device="scale")
    body = raw[1:-1]
    if body.startswith(QUERY):
        if len(body) < 2:
            raise GarbledRead("status reply without a status byte", device="scale")
        return ScaleStatus(body[1])
    text = body.decode("ascii", errors="replace")
    try:
        value = Decimal(text) if "." in text else Decimal(int(text)).scaleb(-decimals)
    except (InvalidOperation, ValueError) as err:
        raise GarbledRead(f"weight {text!r} is not a number", device="scale") from err
    return Weight(value, unit)


def stable_weight(reply: Weight | ScaleStatus, device: str) -> Weight:
    """The weight a sale may use: at-zero means 0, anything else unstable raises."""
    if isinstance(reply, Weight):
        return reply
    reply.raise_for(device)
    if reply.at_zero:
        return Weight(Decimal("0.000"))
    raise GarbledRead(f"status 0x{reply.bits:02x} carries no weight", device=device)


class Scale(Protocol):
    """What the till needs from a scale."""

    def weigh(self) -> Weight:
        """A stable, in-range weight, or a DeviceError saying why not."""

    def status(self) -> DeviceStatus:
        """Current health of the scale."""


class ToledoScale:
    """A Toledo 8217 scale on a serial port (select it by /dev/serial/by-id path)."""

    def __init__(
        self,
        path: str,
        *,
        baudrate: int = 9600,
        timeout: float = 1.0,
        decimals: int = 3,
        seven_e_one: bool = True,
    ) -> None:
        self.path = path
        self.baudrate = baudrate
        self.timeout = timeout
        self.decimals = decimals
        self._framing = (serial.SEVENBITS, serial.PARITY_EVEN) if seven_e_one else (8, "N")
        self._port: serial.Serial | None = None

    def _open(self) -> serial.Serial:
        if self._port is None:
            bits, parity = self._framing
            try:
                self._port = serial.Serial(
                    self.path, self.baudrate, bytesize=bits, parity=parity, timeout=self.timeout
                )
            except serial.SerialException as err:
                raise DeviceUnavailable(
                    "scale not found", device=self.path, detail=str(err)
                ) from err
        return self._port

    def request(self) -> Weight | ScaleStatus:
        """Send W and decode the reply."""
        port = self._open()
        try:
            port.reset_input_buffer()
            port.write(WEIGH)
            raw = port.read_until(CR, size=32)
        except (serial.SerialException, *PORT_ERRORS) as err:
            self.close()
            raise DeviceUnavailable("scale went away", device=self.path, detail=str(err)) from err
        if not raw.endswith(CR):
            raise DeviceTimeout("scale did not answer", device=self.path, detail=repr(raw))
        start = raw.find(STX)
        return parse_reply(raw[start:] if start >= 0 else raw, decimals=self.decimals)

    def weigh(self) -> Weight:
        """A stable weight (see module docstring)."""
        return stable_weight(self.request(), self.path)

    def close(self) -> None:
        """Release the port."""
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, *PORT_ERRORS):
                port.close()

    def status(self) -> DeviceStatus:
        """Online if the scale answers; detail names motion/over/under states."""
        try:
            reply = self.request()
        except DeviceUnavailable as err:
            return DeviceStatus(online=False, unplugged=True, detail=err.code)
        except DeviceError as err:
            return DeviceStatus(online=False, detail=err.code)
        if isinstance(reply, ScaleStatus):
            try:
                reply.raise_for(self.path)
            except DeviceError as err:
                return DeviceStatus(online=True, detail=err.code)
        return DeviceStatus(online=True)


@dataclass
class FakeScale:
    """A scale for tests and demos: set the weight or a fault ("motion", "over", ...).

    With `weight_file`, what that file holds (written by a demo or an end-to-end test in
    another process) is what lies on the platter: a weight in kg ("0.750") or a fault name
    ("motion", "unplugged", ...); a missing or empty file leaves the scale as it was.
    """

    name: str = "fake-scale"
    weight: Decimal = Decimal("0.000")
    fault: str | None = None
    reads: list[Weight] = field(default_factory=list)
    weight_file: str | None = None

    FAULTS = {
        "motion": MOTION,
        "over": OVER_CAPACITY,
        "under": UNDER_CAPACITY,
        "error": RAM_ERROR,
    }

    def put(self, kg: str | Decimal) -> None:
        """Place goods on the platter."""
        self.weight, self.fault = Decimal(kg), None

    def inject(self, fault: str | None) -> None:
        """motion, over, under, error, unplugged, or None."""
        if fault not in (None, "unplugged", *self.FAULTS):
            raise ValueError(f"unknown scale fault {fault!r}")
        self.fault = fault

    def _poll_file(self) -> None:
        """Take the platter's state from `weight_file`, if there is one."""
        if not self.weight_file:
            return
        try:
            with open(self.weight_file, encoding="utf-8") as fh:
                text = fh.read().strip()
        except OSError:
            return
        if text in self.FAULTS or text == "unplugged":
            self.inject(text)
        elif text:
            try:
                self.put(text)
            except InvalidOperation:
                self.inject("error")

    def weigh(self) -> Weight:
        """The set weight, or the injected fault raised like the real scale would."""
        self._poll_file()
        if self.fault == "unplugged":
            raise DeviceUnavailable("scale is unplugged", device=self.name)
        if self.fault:
            ScaleStatus(self.FAULTS[self.fault]).raise_for(self.name)
        reading = Weight(self.weight)
        self.reads.append(reading)
        return reading

    def status(self) -> DeviceStatus:
        """Status reflecting the injected fault."""
        self._poll_file()
        if self.fault == "unplugged":
            return DeviceStatus(online=False, unplugged=True, detail="unplugged")
        return DeviceStatus(online=True, detail=self.fault or "")
