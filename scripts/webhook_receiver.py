"""A receiver-side example for the hub's business webhooks (docs/integrations.md).

Run ``python -m scripts.webhook_receiver --port 9000 --secret whsec_...`` (several
``--secret`` during a rotation) and register ``http://127.0.0.1:9000/hooks`` as an endpoint.
It verifies every request the Standard Webhooks way before it believes a byte of it:

1. read the RAW body (never re-serialise the JSON: the signature is over the bytes sent);
2. check ``webhook-timestamp`` is within 5 minutes of now (replayed old messages fail);
3. recompute ``v1,base64(HMAC-SHA256(secret, "{webhook-id}.{webhook-timestamp}.{body}"))``
   and compare it, in constant time, with each signature in ``webhook-signature``;
4. deduplicate on ``webhook-id`` (a retry or a manual replay carries the same id).

A bad signature is answered 401 (the hub logs it and retries with backoff); a good one 204.
Tests run this very receiver (tests/hub/test_integrations.py).
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from posdomain.webhooks import SignatureError, verify
from scripts.demo import free_port


@dataclass
class VerifyingReceiver:
    """An HTTP server on 127.0.0.1 that verifies each webhook and keeps the good events."""

    secrets: list[str]
    port: int = field(default_factory=free_port)
    events: list[dict[str, Any]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    refused: int = 0
    duplicates: int = 0
    echo: bool = False  # print each verified event (the command line)

    @property
    def url(self) -> str:
        """Where the hub should POST."""
        return f"http://127.0.0.1:{self.port}/hooks"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        """Verify one request; the HTTP status to answer."""
        try:
            msg_id = verify(self.secrets, headers, body)
        except SignatureError:
            self.refused += 1
            return 401
        if msg_id in self.seen_ids:  # a retry or replay of a message already handled
            self.duplicates += 1
            return 204
        self.seen_ids.add(msg_id)
        self.events.append(json.loads(body))
        if self.echo:
            print(body.decode(), flush=True)
        return 204

    def __enter__(self) -> VerifyingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> int:
    """Serve until interrupted, printing each verified event."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", action="append", required=True)
    args = parser.parse_args()
    with VerifyingReceiver(args.secret, args.port, echo=True) as receiver:
        print(f"listening on {receiver.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
