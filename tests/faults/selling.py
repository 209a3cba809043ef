"""A background cashier that keeps selling while a fault is injected."""

from __future__ import annotations

import threading

from scripts.demo_smoke import BoxClient


class Seller(threading.Thread):
    """Sells one-line cash sales in a loop until stopped (or the box goes away)."""

    def __init__(self, box: BoxClient, barcodes: list[str]) -> None:
        super().__init__(daemon=True)
        self.box, self.barcodes = box, barcodes
        self.done = 0
        self.errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        """Sell until told to stop; an error (box killed) ends the loop."""
        while not self.halt.is_set():
            try:
                self.box.sell(self.barcodes, "100.00")
            except Exception as err:
                self.errors.append(repr(err))
                return
            self.done += 1

    def stop(self) -> int:
        """Stop and return how many sales completed."""
        self.halt.set()
        self.join(30)
        return self.done
