"""Scanner: layout-aware keystroke decoding (US vs German QWERTZ) and the fake scanner."""

from __future__ import annotations

import threading

import pytest

from drivers.base import DeviceUnavailable, GarbledRead
from drivers.keymaps import KEY_ENTER, KEY_LEFTSHIFT, KEY_RIGHTALT, get_layout
from drivers.scanner import FakeScanner, KeystrokeDecoder, decode_keystrokes, iter_codes
from drivers.scanner_hw import EvdevScanner, SerialScanner

KEY_Y, KEY_Z, KEY_Q, KEY_A, KEY_MINUS, KEY_SLASH, KEY_SEMICOLON = 21, 44, 16, 30, 12, 53, 39
DIGITS = {str(d): 2 + (d - 1) % 10 for d in range(10)}  # "1" → 2 ... "0" → 11


def keys(text: str) -> list[int]:
    """Keycodes for digits (same on every layout)."""
    return [DIGITS[c] for c in text]


@pytest.mark.req("FR-300")
def test_digits_decode_identically_on_us_and_de() -> None:
    events = [*keys("4006381333931"), KEY_ENTER]
    assert decode_keystrokes(events, "us") == ["4006381333931"]
    assert decode_keystrokes(events, "de") == ["4006381333931"]


@pytest.mark.req("FR-300")
def test_y_and_z_swap_between_us_and_de() -> None:
    events = [KEY_Y, KEY_Z, KEY_ENTER]
    assert decode_keystrokes(events, "us") == ["yz"]
    assert decode_keystrokes(events, "de") == ["zy"]


@pytest.mark.req("FR-300")
def test_shifted_symbols_follow_the_layout() -> None:
    # Shift+7 is '&' on US and '/' on German; the minus key is '-' vs 'ß'.
    events = [(KEY_LEFTSHIFT, 1), (8, 1), (8, 0), (KEY_LEFTSHIFT, 0), KEY_MINUS, KEY_ENTER]
    assert decode_keystrokes(events, "us") == ["&-"]
    assert decode_keystrokes(events, "de") == ["/ß"]


@pytest.mark.req("FR-300")
def test_same_text_needs_different_keys_per_layout() -> None:
    # A badge "ITEM-Z9" typed by a scanner set to German layout, decoded as German.
    shift_z_de = [(KEY_LEFTSHIFT, 1), (KEY_Y, 1), (KEY_LEFTSHIFT, 0)]
    caps = [(KEY_LEFTSHIFT, 1), 23, 20, 18, 50, (KEY_LEFTSHIFT, 0)]
    events = [*caps, KEY_SLASH, *shift_z_de, 10, KEY_ENTER]
    assert decode_keystrokes(events, "de") == ["ITEM-Z9"]
    assert decode_keystrokes(events, "us") == ["ITEM/Y9"]


def test_key_up_and_hold_events() -> None:
    events = [(KEY_A, 1), (KEY_A, 2), (KEY_A, 0), (KEY_ENTER, 1), (KEY_ENTER, 0)]
    assert decode_keystrokes(events, "us") == ["a"]


def test_caps_lock_and_altgr() -> None:
    assert decode_keystrokes([58, KEY_A, 58, KEY_A], "us") == ["Aa"]
    events = [(KEY_RIGHTALT, 1), KEY_Q, (KEY_RIGHTALT, 0), KEY_Q]
    assert decode_keystrokes(events, "de") == ["@q"]


def test_several_codes_and_unterminated_tail() -> None:
    events = [*keys("12"), KEY_ENTER, KEY_ENTER, *keys("34"), 15, *keys("5")]
    assert decode_keystrokes(events, "us") == ["12", "34", "5"]


@pytest.mark.req("FR-300")
def test_unknown_keycode_is_garbled_read() -> None:
    with pytest.raises(GarbledRead) as info:
        decode_keystrokes([*keys("12"), 240, KEY_ENTER], "us")
    assert info.value.code == "GARBLED_READ"


def test_german_key_unknown_to_us_layout() -> None:
    assert decode_keystrokes([86, KEY_ENTER], "de") == ["<"]
    with pytest.raises(GarbledRead):
        decode_keystrokes([86, KEY_ENTER], "us")


def test_decoder_recovers_after_garbled_code() -> None:
    decoder = KeystrokeDecoder("us")
    decoder.feed(240)
    with pytest.raises(GarbledRead):
        decoder.feed(KEY_ENTER)
    decoder.feed(2)
    assert decoder.feed(KEY_ENTER) == "1"


def test_unknown_layout_rejected() -> None:
    with pytest.raises(ValueError, match="unknown keyboard layout"):
        get_layout("be")


@pytest.mark.req("FR-300")
def test_fake_scanner_feeds_codes_and_garbled_reads() -> None:
    scanner = FakeScanner()
    scanner.feed("4006381333931")
    scanner.feed_garbled()
    scanner.feed_keystrokes([KEY_Z, KEY_ENTER], "de")
    assert scanner.read(0) == "4006381333931"
    with pytest.raises(GarbledRead):
        scanner.read(0)
    assert scanner.read(0) == "y"
    assert scanner.read(0) is None
    assert scanner.reads == ["4006381333931", "y"]


def test_fake_scanner_bad_keystrokes_become_garbled_read() -> None:
    scanner = FakeScanner()
    scanner.feed_keystrokes([240, KEY_ENTER], "us")
    with pytest.raises(GarbledRead):
        scanner.read(0)


def test_fake_scanner_read_blocks_until_fed() -> None:
    scanner = FakeScanner()
    timer = threading.Timer(0.05, scanner.feed, args=("123",))
    timer.start()
    assert scanner.read(2) == "123"
    timer.join()


def test_iter_codes_stops_at_timeout() -> None:
    scanner = FakeScanner()
    scanner.feed("1", "2", "3")
    assert list(iter_codes(scanner, 0)) == ["1", "2", "3"]


def test_fake_scanner_unplug() -> None:
    scanner = FakeScanner()
    scanner.unplug()
    with pytest.raises(DeviceUnavailable):
        scanner.read(0)
    assert not scanner.status().online


def test_evdev_scanner_refuses_unstable_paths() -> None:
    with pytest.raises(ValueError, match="by-id"):
        EvdevScanner("/dev/input/event3")


def test_evdev_scanner_missing_device_is_unavailable() -> None:
    scanner = EvdevScanner("/dev/input/by-id/usb-No_Such_Scanner-event-kbd", layout="de")
    assert not scanner.status().online
    with pytest.raises(DeviceUnavailable):
        scanner.read(0)


def test_serial_scanner_missing_port_is_unavailable() -> None:
    scanner = SerialScanner("/dev/serial/by-id/no-such-scanner")
    assert not scanner.status().online
    with pytest.raises(DeviceUnavailable):
        scanner.read(0)
