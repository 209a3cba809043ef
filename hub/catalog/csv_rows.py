"""Catalog CSV format (docs/catalog-csv.md): parse and validate every row, render rows.

Validation never stops at the first bad row: every problem is reported with its line
number (the header is line 1) and a reason code, so a whole file can be fixed in one go.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from hub.catalog.rules import CatalogContext, ProductIn, ProductValues, normalize
from posdomain.contract import field_errors
from posdomain.errors import PosError, Reason, ValidationError

COLUMNS = (
    "sku",
    "name",
    "barcodes",
    "category",
    "tax_class",
    "unit",
    "price",
    "cost",
    "wholesale_tiers",
    "age_restriction",
    "is_deposit",
    "deposit_sku",
    "active",
)
REQUIRED = frozenset({"sku", "name", "tax_class", "price"})
_TRUE, _FALSE = frozenset({"true", "1", "yes", "y"}), frozenset({"false", "0", "no", "n", ""})


@dataclass
class RowError:
    """One bad row: its line number, SKU, reason code and what is wrong."""

    line: int
    sku: str
    reason: str
    message: str
    field: str | None = None

    def __post_init__(self) -> None:
        self.reason = str(self.reason)  # reason enums become their plain code

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the error report."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class ParsedRow:
    """A row that passed its own checks (cross-row checks come later)."""

    line: int
    values: ProductValues
    deposit_sku: str | None


@dataclass
class ParsedFile:
    """Every good row and every error of a file."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _flag(raw: str, name: str, default: bool) -> bool:
    text = raw.strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(
        f"{name} must be true or false", Reason.VALIDATION_FAILED, {"field": name}
    )


def _tiers(raw: str) -> list[dict[str, str]]:
    tiers = []
    for part in filter(None, (p.strip() for p in raw.split("|"))):
        qty, sep, price = part.partition(":")
        if not sep:
            raise ValidationError(
                "wholesale_tiers must look like 10:1.79|50:1.69",
                Reason.VALIDATION_FAILED,
                {"field": "wholesale_tiers"},
            )
        tiers.append({"min_qty": qty.strip(), "price": price.strip()})
    return tiers


def _age(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError(
            "age_restriction must be a whole number of years",
            Reason.VALIDATION_FAILED,
            {"field": "age_restriction"},
        )
    return int(text)


def row_to_input(row: dict[str, str]) -> ProductIn:
    """A CSV row (all strings) as the API input model (deposit resolved separately)."""
    data = {
        "sku": row["sku"],
        "name": row["name"],
        "barcodes": [b for b in (x.strip() for x in row["barcodes"].split("|")) if b],
        "category": row["category"].strip() or None,
        "tax_class": row["tax_class"],
        "unit": row["unit"].strip() or "each",
        "price": row["price"],
        "cost": row["cost"].strip() or None,
        "wholesale_tiers": _tiers(row["wholesale_tiers"]),
        "age_restriction": _age(row["age_restriction"]),
        "is_deposit": _flag(row["is_deposit"], "is_deposit", False),
        "active": _flag(row["active"], "active", True),
    }
    try:
        return ProductIn.model_validate(data)
    except PydanticValidationError as err:
        problems = field_errors(err)
        raise ValidationError(
            "; ".join(f"{p['field']}: {p['problem']}" for p in problems),
            Reason.VALIDATION_FAILED,
            {"field": problems[0]["field"] if problems else None},
        ) from err


def _reader(text: str) -> csv.DictReader[str]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = set(reader.fieldnames or ())
    missing, unknown = REQUIRED - header, header - set(COLUMNS)
    if missing or unknown:
        raise ValidationError(
            "the CSV header does not match docs/catalog-csv.md",
            Reason.VALIDATION_FAILED,
            {"missing": sorted(missing), "unknown": sorted(unknown), "columns": list(COLUMNS)},
        )
    return reader


def _parse_row(row: dict[str, Any], line: int, ctx: CatalogContext) -> ParsedRow:
    if None in row:
        raise ValidationError("the row has more fields than the header", Reason.VALIDATION_FAILED)
    clean = {c: (row.get(c) or "") for c in COLUMNS}
    body = row_to_input(clean)
    deposit_sku = clean["deposit_sku"].strip() or None
    if body.is_deposit and deposit_sku:
        raise ValidationError(
            "a deposit item cannot itself carry a deposit",
            Reason.UNKNOWN_DEPOSIT,
            {"field": "deposit_sku"},
        )
    return ParsedRow(line, normalize(body, ctx), deposit_sku)


def parse_csv(text: str, ctx: CatalogContext) -> ParsedFile:
    """Validate every row on its own; collect the good rows and one error per bad row."""
    reader = _reader(text)
    parsed = ParsedFile()
    for row in reader:
        line = reader.line_num
        try:
            parsed.rows.append(_parse_row(row, line, ctx))
        except PosError as err:
            sku = str(row.get("sku") or "").strip()
            field_name = err.details.get("field") if err.details else None
            parsed.errors.append(RowError(line, sku, str(err.reason), err.message, field_name))
    return parsed


def render_row(values: dict[str, str]) -> str:
    """One CSV line (with newline) for a row dict keyed by COLUMNS."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([values.get(c, "") for c in COLUMNS])
    return out.getvalue()


def header_line() -> str:
    """The CSV header line."""
    return render_row({c: c for c in COLUMNS})
