"""Report exports (FR-602): CSV safe against spreadsheet formulas, a printable HTML view and
PDF, each with the screen's digits and totals, and an audit entry with who exported what,
with which filters, and the SHA-256 of the content.

CSV streams row by row (hashed in a first pass over the same rows, so the audit entry is
written before the first byte leaves). PDF is built with fpdf2, which keeps each finished
page as compressed bytes rather than a document tree, so a 10 000-row report is a few MB.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

from fpdf import FPDF

from hub.core.db import tenant_tx
from hub.governance import audit
from hub.reports.present import text_rows, text_totals
from hub.reports.service import Caller, Filters, Result
from posdomain.audit_chain import Severity

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")
NUMERIC_KINDS = frozenset({"money", "qty", "int", "pct"})


def safe(value: str, kind: str) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote.
    Numbers the hub formatted itself (money, quantities) stay numbers."""
    if kind in NUMERIC_KINDS:
        return value
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(result: Result) -> Iterator[str]:
    """The CSV text, one line at a time: header, rows, totals."""
    kinds = [c.kind for c in result.report.columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        writer.writerow([safe(v, k) for v, k in zip(cells, kinds, strict=True)])
        out = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return out

    yield line([c.label for c in result.report.columns])
    for row in text_rows(result, result.rows):
        yield line(row)
    if result.totals:
        yield line(text_totals(result))


def digest(chunks: Iterator[str] | list[bytes]) -> str:
    """SHA-256 of the content."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk.encode() if isinstance(chunk, str) else chunk)
    return h.hexdigest()


class _Pdf(FPDF):
    title_text = ""

    def header(self) -> None:
        self.set_font("Helvetica", "B", 10)
        self.cell(0, 6, self.title_text, new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 5, f"Page {self.page_no()}", align="R")


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(result: Result, subtitle: str) -> bytes:
    """The report as a landscape PDF table with the totals row last."""
    pdf = _Pdf(orientation="L", unit="mm", format="A4")
    pdf.title_text = _latin(f"{result.report.report_id} {result.report.title} - {subtitle}")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    cols = result.report.columns
    width = (pdf.w - 20) / max(1, len(cols))
    pdf.set_font("Helvetica", "", 7)
    pdf.set_line_width(0.1)
    heads = [_latin(c.label) for c in cols]

    def row(cells: list[str], bold: bool = False) -> None:
        if bold:
            pdf.set_font("Helvetica", "B", 7)
        y = pdf.get_y()
        for n, (col, value) in enumerate(zip(cols, cells, strict=True)):
            shown = _latin(value)[:40]
            x = pdf.l_margin + n * width + 1
            if col.kind in NUMERIC_KINDS:
                x = pdf.l_margin + (n + 1) * width - 1 - pdf.get_string_width(shown)
            pdf.text(x, y + 3.6, shown)
        pdf.line(pdf.l_margin, y + 5, pdf.l_margin + width * len(cols), y + 5)
        pdf.set_y(y + 5)
        if bold:
            pdf.set_font("Helvetica", "", 7)

    row(heads, bold=True)
    for cells in text_rows(result, result.rows):
        if pdf.will_page_break(5):
            pdf.add_page()
            row(heads, bold=True)
        row(cells)
    if result.totals:
        row(text_totals(result), bold=True)
    return bytes(pdf.output())


def record(caller: Caller, result: Result, fmt: str, filters: Filters, sha256: str) -> None:
    """Audit an export: who, which report, format, filters, sort, rows and content hash."""
    details: dict[str, Any] = {
        "report_id": result.report.report_id,
        "format": fmt,
        "filters": filters.as_dict(),
        "sort": result.sort,
        "rows": len(result.rows),
        "sha256": sha256,
    }
    with tenant_tx(caller.tenant_id):
        audit.record(
            caller.principal, "report.exported", result.report.report_id, Severity.INFO, details
        )
