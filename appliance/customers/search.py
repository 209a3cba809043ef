"""Customer search by name or phone at the till (FR-400): only the hub can answer it.

The web app and the sync agent are two processes that share the box database: the web app
writes the question (`customer_searches`), the agent publishes it as
`BoxRequest(kind="customer_search")` and stores the hub's `BoxReply`, and the web app waits a
few seconds for it. Offline the till refuses at once with HUB_REQUIRED (the screen then
offers card scan or typing); a hub that does not answer in time is HUB_TIMEOUT.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.core.context import now_iso
from appliance.core.db import write_txn
from appliance.customers.models import CustomerSearch
from appliance.customers.wire import SearchBody
from appliance.sync.status import is_online
from posdomain.errors import Reason, Unavailable, ValidationError

WAIT_SECONDS = 4.0
POLL_SECONDS = 0.1
STALE_AFTER = timedelta(seconds=10)  # the agent drops questions nobody waits for any more


def clean_query(text: str) -> str:
    """A search text of 2 to 80 characters (a name or a phone number)."""
    query = " ".join(text.split())
    if not 2 <= len(query) <= 80:
        raise ValidationError("search for 2 to 80 characters", Reason.VALIDATION_FAILED)
    return query


def ask(text: str, wait: float = WAIT_SECONDS) -> dict[str, Any]:
    """Ask the hub; the matches (directory fields only) or HUB_REQUIRED / HUB_TIMEOUT."""
    query = clean_query(text)
    if not is_online():
        raise Unavailable("searching by name or phone needs the hub", Reason.HUB_REQUIRED)
    request_id = str(uuid.uuid4())
    with write_txn():
        forget_old()
        CustomerSearch.insert(request_id=request_id, query=query, asked_at=now_iso()).execute()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        row = CustomerSearch.get_or_none(CustomerSearch.request_id == request_id)
        if row is not None and row.reply is not None:
            body = SearchBody.model_validate(json.loads(row.reply))
            items = [i.model_dump() for i in body.items if i.active]
            return {"query": query, "total": body.total, "items": items}
        time.sleep(POLL_SECONDS)
    raise Unavailable("the hub did not answer the search in time", Reason.HUB_TIMEOUT)


def pending() -> list[CustomerSearch]:
    """Questions the agent should send now (unsent, not stale)."""
    since = (datetime.now(UTC) - STALE_AFTER).isoformat()
    return list(
        CustomerSearch.select()
        .where(CustomerSearch.sent_at.is_null(), CustomerSearch.asked_at >= since)
        .order_by(CustomerSearch.asked_at)
    )


def mark_sent(request_id: str) -> None:
    """The agent published the question (inside its write transaction)."""
    CustomerSearch.update(sent_at=now_iso()).where(
        CustomerSearch.request_id == request_id
    ).execute()


def store_reply(request_id: str, body: dict[str, Any]) -> bool:
    """Keep the hub's answer for the waiting web request; False if nobody asked it."""
    parsed = SearchBody.model_validate(body)  # refuse a malformed answer before storing
    updated = (
        CustomerSearch.update(reply=json.dumps(parsed.model_dump()), answered_at=now_iso())
        .where(CustomerSearch.request_id == request_id, CustomerSearch.reply.is_null())
        .execute()
    )
    return bool(updated)


def forget_old() -> int:
    """Drop searches older than an hour (they hold names of customers)."""
    cutoff = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return int(CustomerSearch.delete().where(CustomerSearch.asked_at < cutoff).execute())
