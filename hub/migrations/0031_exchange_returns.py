"""Issue 14 item 3 / FR-303: the hub matches an exchange's returned lines to their sale.

`sale_lines.return_of_sale_id` / `return_of_line_no`: for a returned line of an exchange (a
sale basket that brings back a line of an earlier sale, `return_of` in the payload), the sale
and line it returns; NULL for every other line. Ingest (hub.sync.rules) reads them to refuse
a line returned more often than it was sold, and to count exchanges beside refunds against
what the original sale took (REFUND_EXCEEDS_SALE).
"""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    "ALTER TABLE sale_lines ADD COLUMN return_of_sale_id TEXT",
    "ALTER TABLE sale_lines ADD COLUMN return_of_line_no INTEGER"
    " CHECK (return_of_line_no IS NULL OR return_of_line_no >= 1)",
    "CREATE INDEX sale_lines_return_of ON sale_lines (tenant_id, return_of_sale_id)"
    " WHERE return_of_sale_id IS NOT NULL",
]


def up(ctx: Any) -> None:
    """Add the returned-line reference to sale lines."""
    for stmt in STATEMENTS:
        ctx.execute(stmt)
