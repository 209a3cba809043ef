"""Customer search from a till (FR-400): by name or phone, online only, over MQTT.

The box asks with `BoxRequest(kind="customer_search", query=...)`; the hub answers on
`down/reply` with one `BoxReply` of at most 10 matches of the box's tenant, each only what the
till needs (the card directory's fields) — never the phone or e-mail it matched on.
"""

from __future__ import annotations

from hub.core.db import tenant_tx
from hub.customers import directory, service
from hub.identity.models import Box
from posdomain import topics
from posdomain.envelope import BoxReply, BoxRequest, utcnow

MAX_TILL_RESULTS = 10


def search_reply(box: Box, request: BoxRequest) -> tuple[str, BoxReply]:
    """(topic, reply) answering one till search."""
    found = service.search(box.tenant_id, request.query or "", 1, MAX_TILL_RESULTS)
    with tenant_tx(box.tenant_id):
        customers = {
            c.id: c
            for c in service.customers_by_id(box.tenant_id, [i["id"] for i in found["items"]])
        }
    items = [
        directory.card_entry(customers[i["id"]], i["points"])
        for i in found["items"]
        if i["id"] in customers and i["active"]
    ]
    body = {"query": request.query, "items": items, "total": found["total"]}
    reply = BoxReply(
        request_id=request.request_id, kind="customer_search", issued_at=utcnow(), body=body
    )
    return topics.box_reply(box.box_id), reply
