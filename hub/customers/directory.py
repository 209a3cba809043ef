"""The loyalty card directory boxes hold (FR-400 offline attach): versioned, chunked catch-up.

What a box may know of a customer is only what the till needs: card, customer id, display
name, tier, points balance, active — never phone or e-mail. Every change to one of those
(customer created or edited, tier changed, balance moved) stamps the customer with the next
version of the tenant's `cards` down counter, one version per customer, in the changing
transaction. Boxes get a small retained head (`down/cards`, `{"head": true, "version": V}`)
and ask `BoxRequest(kind="cards", since_version=H)`; the hub answers on `down/cards`, not
retained, with chunks of the customers stamped in (H, V], oldest first, chained like the
catalog's (docs/CONTRACT.md "Card directory").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.core.db import tenant_tx
from hub.customers.models import Customer
from hub.governance import versions
from hub.identity.models import Box
from hub.loyalty.models import Balance
from posdomain import topics
from posdomain.canonical import canonical_json
from posdomain.contract import DownKind
from posdomain.envelope import DownMessage, utcnow

KIND = DownKind.CARDS.value
MAX_CHUNK_CARDS = 1000
MAX_CHUNK_BYTES = 192 * 1024  # well under the 256 KiB message limit


def stamp(tenant_id: str, customer_ids: Iterable[str]) -> int:
    """Give each customer the next directory version (caller's transaction); return the top."""
    ids = sorted(set(customer_ids))
    if not ids:
        return versions.current(tenant_id, KIND)
    top = versions.bump_by(tenant_id, KIND, len(ids))
    first = top - len(ids) + 1
    for n, customer_id in enumerate(ids):
        Customer.update(dir_version=first + n).where(
            Customer.tenant_id == tenant_id, Customer.id == customer_id
        ).execute()
    return top


def head_body(version: int) -> dict[str, Any]:
    """Body of the small retained `down/cards` head."""
    return {"head": True, "version": version}


def card_entry(customer: Customer, balance: int) -> dict[str, Any]:
    """What a box holds of one customer (no phone, no e-mail)."""
    return {
        "customer_id": customer.id,
        "card": customer.card,
        "display_name": customer.display_name,
        "tier": customer.tier,
        "balance": balance,
        "active": bool(customer.active),
        "version": int(customer.dir_version),
    }


def _entries(tenant_id: str, since: int, until: int) -> list[dict[str, Any]]:
    rows = list(
        Customer.select()
        .where(
            Customer.tenant_id == tenant_id,
            Customer.dir_version > since,
            Customer.dir_version <= until,
        )
        .order_by(Customer.dir_version)
    )
    ids = [c.id for c in rows]
    balances = {
        b.customer_id: int(b.points)
        for b in Balance.select().where(
            Balance.tenant_id == tenant_id, Balance.customer_id.in_(ids)
        )
    }
    return [card_entry(c, balances.get(c.id, 0)) for c in rows]


def _split(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in entries:
        entry_size = len(canonical_json(entry))
        if chunks[-1] and (
            len(chunks[-1]) >= MAX_CHUNK_CARDS or size + entry_size > MAX_CHUNK_BYTES
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += entry_size
    return chunks


def build_chunks(tenant_id: str, since_version: int) -> list[dict[str, Any]]:
    """Chunk bodies from `since_version` to the current version (caller's transaction).

    The counter is read before the rows: a customer stamped by a transaction that commits in
    between carries a higher version and comes with the next request, never lost.
    """
    current = versions.current(tenant_id, KIND)
    parts = _split(_entries(tenant_id, since_version, current))
    bodies, start = [], since_version
    for n, cards in enumerate(parts):
        last = n == len(parts) - 1
        end = current if last else int(cards[-1]["version"])
        bodies.append(
            {"head": False, "from_version": start, "to_version": end, "cards": cards, "last": last}
        )
        start = end
    return bodies


def chunk_messages(box: Box, since_version: int) -> list[tuple[str, DownMessage]]:
    """(topic, DownMessage) of every chunk a box needs (none while no card was ever stamped)."""
    with tenant_tx(box.tenant_id):
        bodies = build_chunks(box.tenant_id, since_version)
    topic = topics.box_down(box.box_id, KIND)
    return [
        (
            topic,
            DownMessage(
                kind=DownKind.CARDS,
                version=int(body["to_version"]),
                tenant_id=box.tenant_id,
                branch_id=box.branch_id,
                issued_at=utcnow(),
                body=body,
            ),
        )
        for body in bodies
        if body["to_version"] >= 1
    ]
