"""Server-side paging: one response shape for every paged list of the hub API and portal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from posdomain.errors import Reason, ValidationError

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # 200 million rows at the largest page size: far past any real list


def paged(
    items: Sequence[Any], page: int, total: int, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """{"items", "page", "page_size", "total", "pages"} of one page of a list."""
    return {
        "items": list(items),
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": max(1, math.ceil(total / page_size)),
    }


def page_number(raw: str | None, name: str = "page") -> int:
    """A 1-based page number from a query string (1 when absent; 400 OUT_OF_RANGE otherwise).

    Bounded so that (page - 1) * page_size can never overflow the database's bigint offset.
    """
    return bounded_int(raw, name, 1, MAX_PAGE, default=1)


def page_size_number(raw: str | None, default: int = PAGE_SIZE) -> int:
    """?page_size= between 1 and MAX_PAGE_SIZE (default when absent; 400 OUT_OF_RANGE otherwise)."""
    return bounded_int(raw, "page_size", 1, MAX_PAGE_SIZE, default=default)


def bounded_int(raw: str | None, name: str, low: int, high: int, *, default: int) -> int:
    """An integer query argument checked against [low, high] before anything uses it."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        raise _out_of_range(name, low, high)
    value = int(text)
    if not low <= value <= high:
        raise _out_of_range(name, low, high)
    return value


def _out_of_range(name: str, low: int, high: int) -> ValidationError:
    return ValidationError(
        f"{name} must be a whole number from {low} to {high}",
        Reason.OUT_OF_RANGE,
        {"field": name, "minimum": low, "maximum": high},
    )
