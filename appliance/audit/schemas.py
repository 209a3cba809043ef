"""Response bodies of the audit API as documented in the OpenAPI document (the `@api` source)."""

from __future__ import annotations

from posdomain.openapi import ClosedAnswer


class ChainProblemOut(ClosedAnswer):
    """Where and how the chain is broken."""

    seq: int
    kind: str
    message: str


class IntegrityOut(ClosedAnswer):
    """GET /audit/integrity: the chain verified now, and whether privileged writes are refused
    because it is broken."""

    chain: str
    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None
    problems: list[ChainProblemOut]
    privileged_writes_refused: bool
