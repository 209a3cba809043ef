"""Polling with a deadline: the one wait the tests, benchmarks and chaos runs use."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    check: Callable[[], Any],
    timeout: float = 10.0,
    what: str = "the condition",
    every: float = 0.05,
) -> Any:
    """Poll `check()` until it returns something truthy; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def poll_until(check: Callable[[], Any], timeout: float = 5.0, every: float = 0.05) -> bool:
    """Poll `check()` until truthy; False (no error) after `timeout`: for "nothing arrives"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())
