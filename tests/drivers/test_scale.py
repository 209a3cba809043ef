"""Toledo 8217 scale over a real pseudo-terminal: the test is the scale, the driver the till."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from drivers.base import DeviceTimeout, DeviceUnavailable, GarbledRead
from drivers.factory import build_scale
from drivers.scale import (
    FakeScale,
    ScaleFault,
    ScaleMotion,
    ScaleOverCapacity,
    ScaleStatus,
    ScaleUnderZero,
    ToledoScale,
    Weight,
    parse_reply,
)
from drivers.spec import DeviceSpec
from tests.drivers.conftest import PtyDevice

STX, CR = b"\x02", b"\r"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (STX + b"01.234" + CR, Weight(Decimal("1.234"))),
        (STX + b"01234" + CR, Weight(Decimal("1.234"))),
        (STX + b"?" + bytes([0x40 | 0x01]) + CR, ScaleStatus(0x41)),
        (STX + b"?" + bytes([0x02, 0x30]) + CR, ScaleStatus(0x02)),
    ],
)
def test_parse_reply(frame: bytes, expected: object) -> None:
    assert parse_reply(frame) == expected


@pytest.mark.parametrize("frame", [b"01.234\r", STX + b"12a4" + CR, STX + b"?" + CR, STX + CR])
def test_parse_reply_refuses_garbage(frame: bytes) -> None:
    with pytest.raises(GarbledRead):
        parse_reply(frame)


@pytest.mark.req("FR-300")
def test_stable_weight_is_read_after_w_request(pty_device: PtyDevice) -> None:
    pty_device.answer(b"W", STX + b"00.750" + CR)
    scale = ToledoScale(pty_device.path, timeout=1.0)
    assert scale.weigh() == Weight(Decimal("0.750"))
    assert pty_device.received.startswith(b"W")
    assert scale.status().online
    scale.close()


@pytest.mark.req("FR-300")
@pytest.mark.parametrize(
    ("bits", "error"),
    [
        (0x01, ScaleMotion),
        (0x20, ScaleOverCapacity),
        (0x10, ScaleUnderZero),
        (0x04, ScaleFault),
        (0x80, ScaleFault),
    ],
)
def test_status_bytes_refuse_a_weight(
    pty_device: PtyDevice, bits: int, error: type[Exception]
) -> None:
    pty_device.answer(b"W", STX + b"?" + bytes([bits]) + CR)
    scale = ToledoScale(pty_device.path, timeout=1.0, seven_e_one=False)
    with pytest.raises(error):
        scale.weigh()
    status = scale.status()
    assert status.online
    assert status.detail == error.code  # type: ignore[attr-defined]
    scale.close()


def test_at_zero_is_zero_weight(pty_device: PtyDevice) -> None:
    pty_device.answer(b"W", STX + b"?" + bytes([0x02]) + CR)
    scale = ToledoScale(pty_device.path, timeout=1.0)
    assert scale.weigh().value == Decimal("0.000")
    scale.close()


def test_motion_then_stable(pty_device: PtyDevice) -> None:
    pty_device.answer(b"W", STX + b"?" + bytes([0x01]) + CR, STX + b"01.500" + CR)
    scale = ToledoScale(pty_device.path, timeout=1.0)
    with pytest.raises(ScaleMotion):
        scale.weigh()
    assert scale.weigh().value == Decimal("1.500")
    scale.close()


def test_silent_scale_times_out(pty_device: PtyDevice) -> None:
    scale = ToledoScale(pty_device.path, timeout=0.2)
    with pytest.raises(DeviceTimeout):
        scale.weigh()
    scale.close()


def test_missing_and_unplugged_scale(pty_device: PtyDevice) -> None:
    missing = ToledoScale("/dev/serial/by-id/no-such-scale", timeout=0.2)
    with pytest.raises(DeviceUnavailable):
        missing.weigh()
    status = missing.status()
    assert (status.online, status.state) == (False, "unplugged")
    pty_device.answer(b"W", STX + b"00.100" + CR)
    scale = ToledoScale(pty_device.path, timeout=0.5)
    assert scale.weigh().value == Decimal("0.100")
    pty_device.unplug()
    with pytest.raises((DeviceUnavailable, DeviceTimeout)):
        scale.weigh()


def test_fake_scale_and_factory() -> None:
    fake = build_scale(DeviceSpec(kind="fake"))
    assert isinstance(fake, FakeScale)
    fake.put("2.345")
    assert fake.weigh().value == Decimal("2.345")
    fake.inject("motion")
    with pytest.raises(ScaleMotion):
        fake.weigh()
    fake.inject("unplugged")
    assert fake.status().state == "unplugged"
    serial_scale = build_scale(DeviceSpec(kind="serial", path="/dev/serial/by-id/scale"))
    assert isinstance(serial_scale, ToledoScale)
    with pytest.raises(ValueError, match="needs path"):
        build_scale(DeviceSpec(kind="serial"))


@pytest.mark.req("FR-500")
def test_fake_scale_reads_the_platter_from_its_weight_file(tmp_path: Path) -> None:
    """Demos and browser tests in another process put goods on the fake scale by file."""
    platter = tmp_path / "scale-weight.txt"
    scale = build_scale(DeviceSpec(kind="fake", options={"weight_file": str(platter)}))
    assert isinstance(scale, FakeScale)
    assert scale.weigh().value == Decimal("0.000"), "no file yet: an empty platter"
    platter.write_text("0.750\n")
    assert scale.weigh().value == Decimal("0.750")
    platter.write_text("motion")
    with pytest.raises(ScaleMotion):
        scale.weigh()
    assert scale.status().detail == "motion"
    platter.write_text("unplugged")
    with pytest.raises(DeviceUnavailable):
        scale.weigh()
    platter.write_text("1,5")  # garbage on the platter file reads as a scale fault
    with pytest.raises(ScaleFault):
        scale.weigh()
    platter.write_text("")
    with pytest.raises(ScaleFault):
        scale.weigh()  # an empty file leaves the scale as it was
