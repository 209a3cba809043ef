"""An ESC/POS decoder written for the tests, independent of python-escpos: it reads the
commands our receipts use and gives back the printed lines with their style, the barcode and
the QR payloads. An unknown command fails loudly, so nothing printed can hide in it."""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, LF = 0x1B, 0x1D, 0x0A
CODEPAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}
ESC_ONE_ARG = {ord(c) for c in "!-EGMa{tdJ"}  # ESC <c> n
GS_ONE_ARG = {ord(c) for c in "!BHbfhw"}  # GS <c> n


@dataclass
class Printed:
    """What a receipt printer would put on paper."""

    lines: list[tuple[str, bool]] = field(default_factory=list)  # (text, double width)
    barcodes: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    cut: bool = False

    @property
    def texts(self) -> list[str]:
        """The printed lines' text."""
        return [t for t, _ in self.lines]


class _State:
    def __init__(self) -> None:
        self.codepage = "cp437"
        self.double = False
        self.buffer = bytearray()


def _flush(out: Printed, state: _State) -> None:
    out.lines.append((state.buffer.decode(state.codepage), state.double))
    state.buffer.clear()


def _esc(data: bytes, i: int, state: _State) -> int:
    cmd = data[i + 1]
    if cmd == ord("@"):
        return i + 2
    if cmd not in ESC_ONE_ARG:
        raise ValueError(f"unknown ESC command 0x{cmd:02x} at {i}")
    arg = data[i + 2]
    if cmd == ord("t"):
        state.codepage = CODEPAGES[arg]
    if cmd == ord("!"):
        state.double = bool(arg & 0x20)
    return i + 3


def _gs(data: bytes, i: int, state: _State, out: Printed) -> int:
    cmd = data[i + 1]
    if cmd in GS_ONE_ARG:
        if cmd == ord("!"):
            state.double = bool(data[i + 2] & 0xF0)
        return i + 3
    if cmd == ord("V"):  # cut: GS V m, or GS V m n for m 65/66
        out.cut = True
        return i + (4 if data[i + 2] in (65, 66) else 3)
    if cmd == ord("k"):  # barcode, function B: GS k m n d1..dn
        length = data[i + 3]
        payload = data[i + 4 : i + 4 + length].decode("ascii")
        out.barcodes.append(payload.removeprefix("{B"))
        return i + 4 + length
    if cmd == ord("(") and data[i + 2] == ord("k"):  # QR: GS ( k pL pH cn fn ...
        size = data[i + 3] + 256 * data[i + 4]
        body = data[i + 5 : i + 5 + size]
        if body[:2] == b"1P":  # store the data: cn=49 fn=80 m=48
            out.qr.append(body[3:].decode("ascii"))
        return i + 5 + size
    raise ValueError(f"unknown GS command 0x{cmd:02x} at {i}")


def decode(data: bytes) -> Printed:
    """The lines, barcodes and QR codes in ESC/POS bytes."""
    out, state, i = Printed(), _State(), 0
    while i < len(data):
        byte = data[i]
        if byte == ESC:
            i = _esc(data, i, state)
        elif byte == GS:
            i = _gs(data, i, state, out)
        elif byte == LF:
            _flush(out, state)
            i += 1
        else:
            state.buffer.append(byte)
            i += 1
    return out
