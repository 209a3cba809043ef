"""Catalog CSV format (docs/catalog-csv.md): parse and validate every row, render rows.

Validation never stops at the first bad row: every problem is reported with its line
number (the header is line 1) and a reason code, so a whole file can be fixed in one go.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from hub.catalog.rules import (
    MAX_BARCODES,
    MAX_TIERS,
    CatalogContext,
    ProductIn,
    ProductValues,
    normalize,
)
from posdomain.barcodes import check_digit
from posdomain.contract import field_errors
from posdomain.errors import PosError, Reason, ValidationError
from posdomain.money import MAX_ABS_MINOR
from posdomain.text import has_control

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


def _check_header(fieldnames: list[str]) -> None:
    header = set(fieldnames)
    missing, unknown = REQUIRED - header, header - set(COLUMNS)
    if missing or unknown:
        raise ValidationError(
            "the CSV header does not match docs/catalog-csv.md",
            Reason.VALIDATION_FAILED,
            {"missing": sorted(missing), "unknown": sorted(unknown), "columns": list(COLUMNS)},
        )


def _parse_row(row: dict[str, Any], line: int, ctx: CatalogContext) -> ParsedRow:
    if None in row:
        raise ValidationError("the row has more fields than the header", Reason.VALIDATION_FAILED)
    clean = {c: (row.get(c) or "") for c in COLUMNS}
    for column, value in clean.items():  # NUL & co. in any cell (a name: rules.check_text)
        if has_control(value):
            raise ValidationError(
                f"{column} must not contain control characters",
                Reason.INVALID_TEXT,
                {"field": column},
            )
    body = row_to_input(clean)
    deposit_sku = clean["deposit_sku"].strip() or None
    if body.is_deposit and deposit_sku:
        raise ValidationError(
            "a deposit item cannot itself carry a deposit",
            Reason.UNKNOWN_DEPOSIT,
            {"field": "deposit_sku"},
        )
    return ParsedRow(line, normalize(body, ctx), deposit_sku)


_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # posdomain.text's, tab/newline/CR included
_QTY = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,3}))?")


class _FastRules:
    """The common case of a row's own checks without pydantic, Decimal or exceptions.

    `row()` answers only when the row is certainly valid, with exactly the values the full
    path (`_parse_row`: the API input model, then `rules.normalize`) gives; anything unusual
    (whitespace to strip, UPC-E/EAN-8, a money form other than plain digits, a value out of
    range, a bad row) returns None and the row takes the full path, which also words its
    errors. tests/hub/test_catalog_csv.py compares both paths on generated hostile rows.
    """

    def __init__(self, ctx: CatalogContext, fieldnames: list[str]) -> None:
        self.ctx, self.width = ctx, len(fieldnames)
        index = {name: n for n, name in enumerate(fieldnames)}  # a repeated column: the last
        self.at = [index.get(c) for c in COLUMNS]
        self.exp = ctx.exponent
        frac = r"(?:\.([0-9]{1,EXP}))?".replace("EXP", str(self.exp)) if self.exp else ""
        self.money = re.compile(r"([0-9]{1,12})" + frac)
        self.money_cache: dict[str, int | None] = {}

    def _money(self, raw: str) -> int | None:
        """Minor units of a plain non-negative decimal string (at most the exponent's
        decimals, within MAX_ABS_MINOR), else None."""
        if raw in self.money_cache:
            return self.money_cache[raw]
        m = self.money.fullmatch(raw) if len(raw) <= 20 else None
        value = None
        if m is not None:
            frac = (m.group(2) or "") if self.exp else ""
            minor = int(m.group(1)) * 10**self.exp + int(frac.ljust(self.exp, "0") or 0)
            value = minor if minor <= MAX_ABS_MINOR else None
        if len(self.money_cache) < 65536:  # the same few prices recur
            self.money_cache[raw] = value
        return value

    def _barcodes(self, raw: str) -> list[tuple[str, str]] | None:
        parts = [b for b in (x.strip() for x in raw.split("|")) if b] if raw else []
        if len(parts) > MAX_BARCODES:
            return None
        out: dict[str, str] = {}
        for code in parts:
            if len(code) not in (12, 13, 14) or not (code.isascii() and code.isdigit()):
                return None  # EAN-8/UPC-E, separators, bad length: the full path decides
            if check_digit(code[:-1]) != code[-1]:
                return None
            out.setdefault(code.zfill(14), code)
        return [(code, key) for key, code in out.items()]

    def _tiers(self, raw: str) -> list[tuple[int, int]] | None:
        parts = [p for p in (p.strip() for p in raw.split("|")) if p] if raw else []
        if len(parts) > MAX_TIERS:
            return None
        tiers = []
        for part in parts:
            qty, sep, price = part.partition(":")
            qty, price = qty.strip(), price.strip()
            m = _QTY.fullmatch(qty)
            minor = self._money(price) if sep else None
            if m is None or minor is None:
                return None
            milli = int(m.group(1)) * 1000 + int((m.group(2) or "").ljust(3, "0"))
            if milli <= 0:
                return None
            tiers.append((milli, minor))
        tiers.sort()
        if len({m for m, _ in tiers}) != len(tiers):
            return None
        return tiers

    def row(self, fields: list[str], line: int) -> ParsedRow | None:
        """The row's ParsedRow, or None: take the full path."""
        if len(fields) != self.width:
            return None
        (sku, name, barcodes, category, tax_class, unit, price, cost, tiers_raw, age, dep,
         deposit_sku, active) = (fields[n] if n is not None else "" for n in self.at)  # fmt: skip
        ctx = self.ctx
        if _SKU.fullmatch(sku) is None or not (0 < len(name) <= 120):
            return None
        if name[0].isspace() or name[-1].isspace() or _CONTROL.search(name) is not None:
            return None  # the full path refuses a control character (INVALID_TEXT)
        if not 0 < len(tax_class) <= 20 or tax_class not in ctx.tax_classes:
            return None
        if tax_class != tax_class.strip():
            return None
        cat = category.strip() or None
        if cat is not None and (len(cat) > 40 or cat not in ctx.categories):
            return None
        unit = unit.strip() or "each"
        if unit not in ("each", "weight"):
            return None
        price_minor = self._money(price)
        cost = cost.strip()
        cost_minor = self._money(cost) if cost else None
        if price_minor is None or (cost and cost_minor is None):
            return None
        codes, tiers = self._barcodes(barcodes), self._tiers(tiers_raw)
        if codes is None or tiers is None:
            return None
        age_text = age.strip()
        age_years = None
        if age_text:
            if not (age_text.isascii() and age_text.isdigit()) or not 1 <= int(age_text) <= 99:
                return None
            age_years = int(age_text)
        try:
            is_deposit, is_active = _flag(dep, "is_deposit", False), _flag(active, "active", True)
        except PosError:
            return None
        deposit = deposit_sku.strip() or None
        if (is_deposit and deposit) or (deposit and has_control(deposit)):
            return None
        values = ProductValues(
            sku=sku,
            name=name,
            barcodes=codes,
            category=cat,
            tax_class=tax_class,
            unit=unit,
            price_minor=price_minor,
            cost_minor=cost_minor,
            tiers=tiers,
            age_restriction=age_years,
            is_deposit=is_deposit,
            deposit_product_id=None,
            active=is_active,
        )
        return ParsedRow(line, values, deposit)


def parse_csv(text: str, ctx: CatalogContext, *, fast: bool = True) -> ParsedFile:
    """Validate every row on its own; collect the good rows and one error per bad row.

    Rows go through `_FastRules` first (`fast=False`: never), the full path when it has any
    doubt; both give the same values, the full path the error of a bad row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    fieldnames = next(reader, [])
    _check_header(fieldnames)
    rules = _FastRules(ctx, fieldnames)
    parsed = ParsedFile()
    append = parsed.rows.append
    width = len(fieldnames)
    end = reader.line_num  # the physical line a record ended on (a quoted cell may span more)
    for fields in reader:
        line, end = end + 1, reader.line_num  # a record's number: the line it starts on
        if not fields:  # csv.DictReader skips blank lines too
            continue
        got = rules.row(fields, line) if fast else None
        if got is not None:
            append(got)
            continue
        row: dict[Any, Any] = dict(zip(fieldnames, fields, strict=False))
        if len(fields) > width:
            row[None] = fields[width:]
        try:
            append(_parse_row(row, line, ctx))
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
