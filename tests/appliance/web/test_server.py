"""The box's web server reuses its request threads (issue 15 item 6: kept per-thread state).

werkzeug's `threaded=True` server ran every request on a new thread, so the till's per-thread
SQLite connection, pricing memo and kept basket rows never survived to the next request on a
served box. These tests run the real server on a loopback port with plain WSGI apps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from appliance.web.server import make_server

pytestmark = pytest.mark.req("NFR-001")

_LOCAL = threading.local()


def _counting_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers how many requests this thread has served (its thread-local state's age)."""
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("a view that fails")
    if environ["PATH_INFO"] == "/wait":
        _RELEASE.wait(10)
    _LOCAL.served = getattr(_LOCAL, "served", 0) + 1
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{_LOCAL.served} {threading.current_thread().name}".encode()]


_RELEASE = threading.Event()


@contextmanager
def _serving(threads: int) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _counting_app, threads=threads)
    runner = threading.Thread(target=server.serve_forever, daemon=True)
    runner.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        _RELEASE.set()
        server.shutdown()
        server.server_close()
        runner.join(5)


def test_requests_run_on_a_few_reused_threads() -> None:
    with _serving(threads=2) as url:
        answers = [requests.get(f"{url}/", timeout=5).text.split() for _ in range(12)]
    names = {name for _, name in answers}
    assert len(names) <= 2
    assert all(name.startswith("box-web") for name in names)
    # a thread's kept state outlives the request: 12 requests on at most 2 threads
    assert sum(int(count) for count, _ in answers) > 12
    assert max(int(count) for count, _ in answers) >= 6


def test_a_held_stream_does_not_block_other_requests() -> None:
    _RELEASE.clear()
    with _serving(threads=2) as url:
        held = threading.Thread(target=requests.get, args=(f"{url}/wait",), kwargs={"timeout": 10})
        held.start()
        assert requests.get(f"{url}/", timeout=5).status_code == 200
        _RELEASE.set()
        held.join(10)


def test_a_failing_request_leaves_the_server_serving() -> None:
    with _serving(threads=1) as url:
        with pytest.raises(requests.RequestException):
            requests.get(f"{url}/boom", timeout=5).raise_for_status()
        assert requests.get(f"{url}/", timeout=5).status_code == 200


def test_a_port_already_taken_fails_as_a_bind_error() -> None:
    """A bind that fails says so (werkzeug logs the OSError and exits) instead of an
    AttributeError: the close after the failed bind shut a thread pool that did not exist
    yet, which hid the cause."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises((OSError, SystemExit)):
            make_server("127.0.0.1", taken.getsockname()[1], _counting_app)
