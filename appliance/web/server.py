"""The box's WSGI server: werkzeug's, with a fixed pool of long-lived request threads.

werkzeug's `threaded=True` server starts a new thread for every connection (and its
HTTP/1.0 handler closes the connection after each response), so everything the till keeps
per thread died with each request on a served box: the thread's SQLite connection (whose
close checkpoints the WAL, an fsync, and whose reopening re-runs the pragmas), the pricing
memo and the kept basket rows (issue 15 item 6). Here the accepted connections are handed to
a `ThreadPoolExecutor`, so the same few threads serve request after request and their kept
state is used as on the bench.

A scanner's Server-Sent Events stream holds a thread for up to `SCAN_STREAM_SECONDS`; the
pool is sized for a store's tills and screens (`DEFAULT_THREADS`), a connection beyond it
waits in the pool's queue, never refused.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.serving import BaseWSGIServer

DEFAULT_THREADS = 16  # tills, the customer screen's and scanners' event streams, the owner


class PooledWSGIServer(BaseWSGIServer):
    """A werkzeug server whose requests run on a fixed pool of reused threads."""

    multithread = True

    def __init__(self, host: str, port: int, app: Any, threads: int = DEFAULT_THREADS) -> None:
        # before the bind: a bind that fails closes the server, and closing shuts the pool
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="box-web")
        super().__init__(host, port, app)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._serve, request, client_address)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - as socketserver does: log it, serve the next one
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def make_server(host: str, port: int, app: Any, threads: int = DEFAULT_THREADS) -> PooledWSGIServer:
    """The box web server on host:port (call `serve_forever`, `shutdown` from another thread)."""
    return PooledWSGIServer(host, port, app, threads)
