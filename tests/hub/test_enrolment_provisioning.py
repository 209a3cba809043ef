"""FR-500/FR-304/NFR-005: provisioning enrols against the real hub app, self-tests with fakes
against a real ACL'd Mosquitto, and the commissioning report lands on the hub portal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from firmware_config.schema import load_box_config
from hub.boxes import registry
from provisioning.__main__ import main as provisioning_main
from provisioning.enrol import EnrolFailed, enrol
from provisioning.selftest import run_selftest
from provisioning.upload import upload_report
from scripts.testkit.broker import AclBroker as Broker
from scripts.testkit.broker import acl_broker
from tests.hub.conftest import login
from tests.provisioning.helpers import FlaskHttp

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]


def new_code(client: FlaskClient) -> str:
    login(client, "owner")
    resp = client.post("/api/v1/enrolment-codes", json={"branch_id": "b-downtown"})
    assert resp.status_code == 201
    return str(resp.get_json()["code"])


@pytest.fixture
def enrolled(client: FlaskClient, tmp_path: Path) -> dict[str, Any]:
    """A box enrolled through `python -m provisioning enrol` (in-process hub)."""
    out = tmp_path / "etc"
    argv = ["enrol", "--hub", "http://hub.test", "--code", new_code(client), "--out", str(out)]
    argv += ["--database", str(tmp_path / "box.sqlite3"), "--bind", "127.0.0.1:8100"]
    assert provisioning_main(argv, client=FlaskHttp(client)) == 0
    return {"out": out, "config": load_box_config(out / "box.yaml"), "tmp": tmp_path}


@pytest.fixture
def broker(enrolled: dict[str, Any]) -> Iterator[Broker]:
    """Our own Mosquitto with the passwd/ACL `python -m hub mqtt-config` writes from the DB."""
    with acl_broker(enrolled["tmp"] / "mqtt", registry.broker_users()) as running:
        yield running


def with_broker(config: Any, port: int, **devices: Any) -> Any:
    data = config.model_dump(mode="json")
    data["mqtt"]["port"] = port
    for role, settings in devices.items():
        data["devices"][role] = settings
    return type(config).model_validate(data)


@pytest.mark.req("FR-500", "NFR-005")
def test_enrol_writes_valid_config_secret_units_and_database(enrolled: dict[str, Any]) -> None:
    out, config = enrolled["out"], enrolled["config"]
    assert config.box_id.startswith("box-")
    assert (config.tenant_id, config.branch_id) == ("t-greenbasket", "b-downtown")
    assert config.mqtt.username == config.box_id
    assert config.profile == "demo-fakes"
    assert config.hub_url == "http://hub.test"
    assert (out / "mqtt.password").stat().st_mode & 0o777 == 0o600
    assert config.mqtt.password_file == str(out / "mqtt.password")
    units = sorted(p.name for p in (out / "systemd").iterdir())
    assert units == ["cfpos-box-devices.service", "cfpos-box-sync.service", "cfpos-box-web.service"]
    web = (out / "systemd" / "cfpos-box-web.service").read_text()
    assert f"-m appliance serve --config {out / 'box.yaml'}" in web
    assert Path(config.database_path).exists()  # `python -m appliance migrate` ran
    assert yaml.safe_load((out / "box.yaml").read_text())["box_id"] == config.box_id


@pytest.mark.req("NFR-005")
def test_enrol_refusals_write_nothing(client: FlaskClient, tmp_path: Path) -> None:
    with pytest.raises(EnrolFailed) as info:
        enrol(
            "http://hub.test",
            "QQQQ-QQQQ-QQQQ",
            tmp_path / "x",
            client=FlaskHttp(client, "10.5.5.5"),
        )
    assert info.value.reason == "ENROLMENT_UNKNOWN"
    assert "new one" in info.value.action
    assert not (tmp_path / "x").exists()


@pytest.mark.req("FR-500", "FR-304", "NFR-005")
def test_selftest_with_fakes_passes_and_report_is_on_the_portal(
    client: FlaskClient, enrolled: dict[str, Any], broker: Broker
) -> None:
    config = with_broker(enrolled["config"], broker.port)
    report = run_selftest(config, scan_timeout=1)
    assert [s["name"] for s in report["steps"]] == [
        "devices",
        "printer",
        "drawer",
        "scanner",
        "broker",
    ]
    assert report["ok"], report["steps"]
    assert "4006381333931" in report["steps"][3]["message"]
    ok, message = upload_report(config, report, "http://hub.test", FlaskHttp(client))
    assert ok, message
    page = client.get(f"/boxes/{config.box_id}")
    assert page.status_code == 200
    assert "PASS" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/boxes/{config.box_id}/commissioning").get_json()
    assert api["reports"][0]["ok"] is True


@pytest.mark.req("FR-304", "FR-500")
def test_printer_gone_mid_receipt_is_a_fail_step_not_a_traceback(
    client: FlaskClient, enrolled: dict[str, Any], broker: Broker
) -> None:
    printer = {"kind": "fake", "options": {"fault": "unplugged"}}
    config = with_broker(enrolled["config"], broker.port, printer=printer)
    report = run_selftest(config, scan_timeout=1)
    step = next(s for s in report["steps"] if s["name"] == "printer")
    assert not report["ok"]
    assert step["ok"] is False
    assert step["message"].startswith("DEVICE_UNAVAILABLE")
    assert "cable and power" in step["action"]
    assert upload_report(config, report, "http://hub.test", FlaskHttp(client))[0]
    assert "FAIL" in client.get(f"/boxes/{config.box_id}").get_data(as_text=True)


@pytest.mark.req("NFR-005")
def test_commissioning_upload_needs_the_box_credentials(
    client: FlaskClient, enrolled: dict[str, Any]
) -> None:
    config = enrolled["config"]
    http = FlaskHttp(client, "10.6.6.6")
    body = {"box_id": config.box_id, "ok": True, "steps": [{"name": "x", "ok": True}]}
    url = f"http://hub.test/api/v1/boxes/{config.box_id}/commissioning"
    status, answer = http.post_json(url, body, basic_auth=(config.box_id, "wrong"))
    assert (status, answer["error"]["reason"]) == (401, "BAD_CREDENTIALS")
    assert http.post_json(url, body)[0] == 401
