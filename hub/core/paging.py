"""Server-side paging: one response shape for every paged list of the hub API and portal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


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
