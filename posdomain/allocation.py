"""Largest-remainder allocation of an exact money amount over weights, to the currency unit.

Used by tax (document tax back to lines) and pricing (a promotion's discount over the lines
it covers) so every per-line figure on a receipt adds up exactly to the document figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from posdomain.money import quantum


def allocate(
    total: Decimal,
    weights: Sequence[Decimal],
    keys: Sequence[str],
    exponent: int = 2,
) -> list[Decimal]:
    """Split `total` over non-negative weights in whole units; the parts sum to `total` exactly.

    Leftover units go to the largest fractional remainders; ties go to the smallest key, so
    the result does not depend on the order of the inputs. All-zero weights split evenly.
    """
    if len(weights) != len(keys):
        raise ValueError("weights and keys differ in length")
    if not weights:
        if total != 0:
            raise ValueError("cannot allocate a non-zero total over nothing")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    unit = quantum(exponent)
    if total != total.quantize(unit):
        raise ValueError(f"{total} is not a whole number of units")
    if total < 0:
        return [-part for part in allocate(-total, weights, keys, exponent)]
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights = [Decimal(1)] * len(weights)
        weight_sum = Decimal(len(weights))
    raw = [total * w / weight_sum for w in weights]
    parts = [r.quantize(unit, rounding=ROUND_FLOOR) for r in raw]
    leftover = int(((total - sum(parts, Decimal(0))) / unit).to_integral_value())
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], keys[i]))
    for i in order[:leftover]:
        parts[i] += unit
    return [p.quantize(unit) for p in parts]
