"""Weighed products by their plain GTIN (FR-200, FR-300): never a guessed quantity. The till
takes the weight the cashier typed, or a stable reading of the attached scale through the
device service (its control socket; a fake scale stands in for the hardware), and refuses
anything else with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.devices.service import DeviceService, ServiceSettings
from drivers.drawer import FakeDrawer
from drivers.factory import DeviceSet
from drivers.printer import FakePrinter
from drivers.scale import FakeScale
from drivers.scanner import FakeScanner
from firmware_config.schema import BoxConfig
from tests.appliance.conftest import count
from tests.appliance.factories import CHEESE_WEIGHT_LABEL, chunk, extra_products, make_config
from tests.appliance.till.test_basket import MILK

CHEESE = "2800035000000"  # Cheddar by weight, 14.90 / kg, by its plain in-store GTIN
FAST = ServiceSettings(poll=0.02, reconcile_every=0.1)


@pytest.fixture
def box_config(tmp_path: Path) -> BoxConfig:
    """A box with a scale attached (served by the device service)."""
    return make_config(tmp_path, devices={"scale": {"kind": "fake"}})


@pytest.fixture
def scale(box_config: BoxConfig, box_db: SqliteDatabase, app: Flask) -> Iterator[FakeScale]:
    """The weighed catalog, and the device service running over a fake scale."""
    assert down_messages.apply_down(BoxContext(box_config), chunk(1, 2, extra_products()))
    fake = FakeScale()
    devices = DeviceSet(FakePrinter(), FakeDrawer(), FakeScanner(), scale=fake)
    service = DeviceService(box_config, devices, FAST)
    service.start()
    yield fake
    service.stop()


def _add(client: FlaskClient, barcode: str, **body: Any) -> Any:
    return client.post("/api/v1/basket/lines", json={"barcode": barcode, **body})


def _refused(client: FlaskClient, db: SqliteDatabase, barcode: str, **body: Any) -> Any:
    resp = _add(client, barcode, **body)
    assert resp.status_code == 400, resp.get_json()
    assert count(db, "basket_lines") == 0, "a refused line writes nothing"
    return resp.get_json()["error"]


@pytest.mark.req("FR-200", "FR-300")
def test_the_default_qty_of_1_is_no_weight(
    cashier: FlaskClient, scale: FakeScale, box_db: SqliteDatabase
) -> None:
    """What the cashier screen sent for every scan: qty 1 was sold as 1.000 kg."""
    scale.inject("motion")
    error = _refused(cashier, box_db, CHEESE, qty=1)
    assert error["reason"] == "INVALID_QUANTITY"
    assert error["details"] == {"unit": "weight", "field": "qty"}


@pytest.mark.req("FR-200", "FR-300")
@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("motion", "SCALE_MOTION"),
        ("over", "SCALE_OVER_CAPACITY"),
        ("under", "SCALE_UNDER_ZERO"),
        ("error", "SCALE_FAULT"),
        ("unplugged", "DEVICE_UNAVAILABLE"),
        (None, "SCALE_EMPTY"),
    ],
)
def test_no_stable_weight_on_the_scale_asks_for_the_weight(
    cashier: FlaskClient,
    scale: FakeScale,
    box_db: SqliteDatabase,
    fault: str | None,
    code: str,
) -> None:
    scale.inject(fault)  # None: the empty platter reads 0.000
    error = _refused(cashier, box_db, CHEESE)
    assert error["reason"] == "WEIGHT_REQUIRED"
    assert error["details"] == {
        "unit": "weight",
        "product_id": "p-cheese",
        "name": "Cheddar by weight",
        "scale": code,
    }


@pytest.mark.req("FR-200", "FR-300")
def test_a_stable_scale_reading_or_a_typed_weight_is_sold(
    cashier: FlaskClient, scale: FakeScale
) -> None:
    scale.put("0.455")
    line = _add(cashier, CHEESE).get_json()["lines"][0]
    assert (line["unit"], line["weight"], line["extended"]) == ("weight", "0.455", "6.78")
    assert len(scale.reads) == 1
    scale.inject("motion")  # a typed weight wins: the scale is not asked
    typed = _add(cashier, CHEESE, weight="1.2").get_json()["lines"][1]
    assert (typed["weight"], typed["extended"]) == ("1.200", "17.88")
    assert len(scale.reads) == 1


@pytest.mark.req("FR-200", "FR-300", "NFR-005")
@pytest.mark.parametrize(
    ("barcode", "body", "reason"),
    [
        (CHEESE, {"weight": "0"}, "INVALID_QUANTITY"),
        (CHEESE, {"weight": "0.000"}, "INVALID_QUANTITY"),
        (CHEESE, {"weight": "-0.5"}, "VALIDATION_FAILED"),
        (CHEESE, {"weight": "0.0005"}, "VALIDATION_FAILED"),
        (CHEESE, {"weight": 0.5}, "VALIDATION_FAILED"),
        (CHEESE, {"weight": "1000"}, "VALIDATION_FAILED"),
        (CHEESE, {"qty": "0.455"}, "INVALID_QUANTITY"),
        (MILK, {"weight": "0.500"}, "INVALID_QUANTITY"),
        (CHEESE_WEIGHT_LABEL, {"weight": "0.500"}, "INVALID_QUANTITY"),
    ],
)
def test_zero_negative_and_unit_mismatched_quantities_are_refused(
    cashier: FlaskClient,
    scale: FakeScale,
    box_db: SqliteDatabase,
    barcode: str,
    body: dict[str, Any],
    reason: str,
) -> None:
    scale.put("0.455")  # a reading is there: the bad input must still be refused
    assert _refused(cashier, box_db, barcode, **body)["reason"] == reason


@pytest.mark.req("FR-200", "FR-300")
def test_without_the_device_service_the_weight_must_be_typed(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    assert down_messages.apply_down(BoxContext(box_config), chunk(1, 2, extra_products()))
    error = _refused(cashier, box_db, CHEESE)
    assert (error["reason"], error["details"]["scale"]) == ("WEIGHT_REQUIRED", "DEVICE_UNAVAILABLE")
    assert _add(cashier, CHEESE, weight="0.250").status_code == 201
