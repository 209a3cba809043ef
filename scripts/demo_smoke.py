"""Drive the running demo like a person would: a sale on the box, then find it on the hub."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests


class BoxClient:
    """The cashier screen's API, as the browser uses it."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.http = requests.Session()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        """One JSON call; raise with the error body on failure."""
        resp = self.http.request(method, self.base + path, timeout=10, **kw)
        if resp.status_code >= 400:
            raise AssertionError(f"box {method} {path}: {resp.status_code} {resp.text}")
        return resp.json()

    def login(self, pin: str) -> Any:
        """PIN login at the till."""
        return self.call("POST", "/auth/pin", json={"pin": pin})

    def ensure_shift(self, opening_float: str = "100.00") -> dict[str, Any]:
        """This till's open shift, opened with the float if none is (no sale without one)."""
        current = self.call("GET", "/shifts/current")["shift"]
        if current:
            return dict(current)
        return dict(self.call("POST", "/shifts", json={"opening_float": opening_float}))

    def new_shift(self, opening_float: str) -> dict[str, Any]:
        """Close the till's open shift (blind, uncounted), if any, and open a new one."""
        if self.call("GET", "/shifts/current")["shift"]:
            self.call("POST", "/shifts/current/close", json={"counted": {}})
        return dict(self.call("POST", "/shifts", json={"opening_float": opening_float}))

    def wait_for_master_data(self, timeout: float = 30.0) -> None:
        """Wait until the hub's staff list and config have reached the box.

        Logging in earlier would count as failed PIN attempts towards the lockout.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            versions = self.call("GET", "/status").get("versions", {})
            if all(versions.get(k, 0) >= 1 for k in ("staff", "config", "catalog")):
                return
            time.sleep(0.3)
        raise AssertionError("staff/config/catalog never reached the box")

    def sell(self, barcodes: list[str], tendered: str, cid: str | None = None) -> Any:
        """Scan each barcode, pay cash, return the completed sale."""
        headers = {"X-Correlation-ID": cid} if cid else {}
        for code in barcodes:
            self.call("POST", "/basket/lines", json={"barcode": code}, headers=headers)
        return self.call(
            "POST",
            "/basket/pay",
            json={"tendered": tendered, "idempotency_key": uuid.uuid4().hex},
            headers=headers,
        )

    def first_barcodes(self, n: int) -> list[str]:
        """Barcodes of the first n products sold per item (a weighed one needs its weight)
        the box knows (waits for the catalog to arrive)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            products = self.call("GET", "/products", params={"q": ""})
            items = products.get("products", products) if isinstance(products, dict) else products
            codes = [
                p["barcodes"][0] for p in items if p.get("barcodes") and p.get("unit") != "weight"
            ]
            if len(codes) >= n:
                return codes[:n]
            time.sleep(0.5)
        raise AssertionError("the catalog never reached the box")


class HubClient:
    """The hub portal's API for a logged-in user."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.http = requests.Session()

    def login(self, username: str, password: str) -> None:
        """Password login; the session cookie stays on this client."""
        resp = self.http.post(
            self.base + "/auth/login", json={"username": username, "password": password}, timeout=10
        )
        if resp.status_code != 200:
            raise AssertionError(f"hub login failed: {resp.status_code} {resp.text}")

    def sales(self) -> list[dict[str, Any]]:
        """The sales this user may see (none yet while the hub answers 503 HUB_BUSY: the
        embedded SQLite hub is locked by the ingest writing that very sale)."""
        resp = self.http.get(self.base + "/sales", params={"per_page": 200}, timeout=10)
        if resp.status_code == 503:
            return []
        resp.raise_for_status()
        body = resp.json()
        return list(body.get("sales", body.get("items", [])))

    def wait_for_sale(self, sale_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Poll until the sale shows on the hub."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sale in self.sales():
                if sale.get("sale_id") == sale_id or sale.get("id") == sale_id:
                    return sale
            time.sleep(0.5)
        raise AssertionError(f"sale {sale_id} did not reach the hub within {timeout}s")


def login_of(seed: dict[str, Any], role: str) -> dict[str, Any]:
    """The first demo login with that role."""
    return next(x for x in seed["logins"] if x["role"] == role)


def ring_and_verify(box_port: int, hub_port: int, seed: dict[str, Any]) -> dict[str, Any]:
    """Ring one sale on the box and return it as the hub lists it."""
    box = BoxClient(box_port)
    box.wait_for_master_data()
    box.login(login_of(seed, "CASHIER")["pin"])
    box.ensure_shift()
    sale = box.sell(box.first_barcodes(2), "50.00")
    hub = HubClient(hub_port)
    owner = login_of(seed, "TENANT_OWNER")
    hub.login(owner["username"], owner["password"])
    return hub.wait_for_sale(sale["sale_id"])
