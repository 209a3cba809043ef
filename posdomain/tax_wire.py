"""Wire forms of the tax engine's results (docs/CONTRACT.md): one place for box and hub."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from posdomain.tax_config import TaxConfig
from posdomain.tax_engine import LineTax, TaxRow


def line_taxes_json(line: LineTax, cfg: TaxConfig) -> list[dict[str, Any]]:
    """A line's tax per code, with the rate, levy and compound base the hub re-checks;
    empty for a single-rate class (its `tax_rate` says it all)."""
    tc = cfg.classes.get(line.tax_class)
    if tc is None or not tc.components:
        return []
    return [
        {
            "code": comp.code,
            "rate": str(comp.rate),
            "per_unit": None if comp.per_unit is None else str(comp.per_unit),
            "on": list(comp.on),
            "tax": str(part.tax),
        }
        for comp, part in zip(tc.components, line.parts, strict=True)
    ]


def breakdown_json(rows: Sequence[TaxRow]) -> list[dict[str, Any]]:
    """The tax breakdown rows (one per tax code) in wire form."""
    return [
        {
            "tax_class": r.tax_class,
            "name": r.name or r.tax_class,
            "rate": str(r.rate),
            "per_unit": None if r.per_unit is None else str(r.per_unit),
            "inclusive": r.inclusive,
            "net": str(r.net),
            "tax": str(r.tax),
            "gross": str(r.gross),
        }
        for r in rows
    ]
