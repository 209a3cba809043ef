"""The release offer hub → box over real MQTT (FR-703, FR-804): the `release` down message
names what to install, the box fetches a real artifact built by `just build`'s code in
chunks through the ingest worker, resumes an interrupted download, checks it against the
offered checksum and the manifest, refuses a tampered or truncated one with a reason code
and installs nothing, and is never served during an open shift."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.migrations import migrate
from appliance.sync import outbox
from appliance.sync.box_state import ensure_box_state
from appliance.sync.transport import PahoTransport
from appliance.updates.fetch import FetchIncomplete, ReleaseFetcher, fetch_and_update
from appliance.updates.install import install
from appliance.updates.layout import Layout
from firmware_config.schema import MqttSettings
from hub.core.db import platform_tx, tenant_tx
from hub.identity.models import Box, Branch, Tenant
from hub.releases import artifacts, rollouts
from hub.releases.models import Artifact
from hub.releases.offers import CHUNK_BYTES
from hub.sync import downlink
from hub.sync.apply import apply_batch
from hub.sync.worker import IngestWorker
from posdomain import topics
from posdomain.envelope import DownMessage
from posdomain.errors import Conflict, ValidationError
from posdomain.permissions import Principal, Role
from posdomain.releases import MANIFEST, sums_text, verify_artifact
from scripts.build_release import build
from scripts.testkit.crafted import batch_of
from tests.appliance.factories import make_config

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.req("FR-703", "FR-804")]
ADMIN = Principal("user", "offer-test-admin", Role.APPLICATION_OWNER, None)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real artifact from the build code (this tree)."""
    return build("DEV", out=tmp_path_factory.mktemp("dist"))


def _wheel(art: Path) -> Path:
    return next(art.glob("*.whl"))


@pytest.fixture
def offered(app, built, tmp_path, mqtt_addr) -> Iterator[dict[str, Any]]:
    """A tenant with one box in a 100 % canary of the artifact, the ingest worker serving
    the hub's artifact store, and a box transport on the same broker."""
    tenant = f"t-offer-{uuid.uuid4().hex[:8]}"
    with platform_tx():
        Tenant.create(id=tenant, name=tenant)
        Branch.create(id=f"{tenant}-b", tenant_id=tenant, name="b")
        box = Box.create(box_id=f"box-{uuid.uuid4().hex[:10]}", tenant_id=tenant,
                         branch_id=f"{tenant}-b", name="b")  # fmt: skip
    store = tmp_path / "store"
    with platform_tx():
        known = Artifact.get_or_none(Artifact.name == built.name)
    if known is None:
        artifacts.publish(ADMIN, built, store)
    else:  # published by an earlier test of this module: a fresh copy of its files
        shutil.copytree(built, store / built.name)
    body = rollouts.RolloutIn(
        artifact=built.name, strategy="percent", canary_percent=100, reason="offer test"
    )
    rollout = rollouts.create(ADMIN, tenant, body, "DEV")
    host, port = mqtt_addr
    worker = IngestWorker(host, port, client_id=f"cfpos-hub-offer-{uuid.uuid4().hex[:8]}",
                          releases_dir=store)  # fmt: skip
    transport = PahoTransport(MqttSettings(host=host, port=port), f"t-{box.box_id}")
    worker.start()
    transport.start()
    try:
        assert worker.ready.wait(10)
        assert transport.wait_connected(10)
        yield {"tenant": tenant, "box": box, "store": store, "rollout": rollout,
               "transport": transport}  # fmt: skip
    finally:
        transport.stop()
        worker.stop()
        rollouts.cancel(ADMIN, tenant, rollout["id"])


def _release_message(box: Box) -> DownMessage:
    with tenant_tx(box.tenant_id):
        messages = dict(downlink.messages_for_box(box))
    return messages[topics.box_down(box.box_id, "release")]


def _state(o: dict[str, Any]) -> tuple[str, str | None]:
    got = rollouts.get(o["tenant"], o["rollout"]["id"])["boxes"][0]
    return got["state"], got["reason"]


def test_the_offer_names_the_artifact_and_the_box_fetches_resumes_and_installs_it(
    offered, built, tmp_path
):
    box = offered["box"]
    msg = _release_message(box)
    assert msg.kind == "release"
    assert msg.version >= 1
    offer = msg.body
    assert offer["artifact"] == built.name
    assert offer["rollout_id"] == offered["rollout"]["id"]
    wheel = _wheel(built)
    assert {f["file"] for f in offer["files"]} == {wheel.name, MANIFEST, "SHA256SUMS"}
    chunks = -(-wheel.stat().st_size // CHUNK_BYTES)
    assert chunks >= 3  # a real wheel takes several messages

    downloads = tmp_path / "downloads"
    first = ReleaseFetcher(box.box_id, offered["transport"], downloads, running=None,
                           shift_open=False)  # fmt: skip
    with pytest.raises(FetchIncomplete):
        first.fetch(offer, max_chunks=2)  # the power goes out after two chunks
    partial = downloads / f"{built.name}.partial" / wheel.name
    assert partial.stat().st_size == 2 * CHUNK_BYTES
    assert _state(offered)[0] == "OFFERED"  # every chunk request is a check-in

    again = ReleaseFetcher(box.box_id, offered["transport"], downloads, running=None,
                           shift_open=False)  # fmt: skip
    got = again.fetch(offer)
    assert again.chunks == chunks - 2 + 2  # the rest of the wheel, manifest, SHA256SUMS
    assert got == downloads / built.name
    assert (got / wheel.name).read_bytes() == wheel.read_bytes()
    layout = Layout(tmp_path / "root")
    manifest, _sum = verify_artifact(got)
    installed = install(layout, got, manifest)
    assert (installed / "site" / "appliance" / "updates" / "fetch.py").is_file()


def test_no_bytes_during_an_open_shift(offered, tmp_path):
    box = offered["box"]
    offer = _release_message(box).body
    fetcher = ReleaseFetcher(box.box_id, offered["transport"], tmp_path / "dl", running=None,
                             shift_open=True)  # fmt: skip
    with pytest.raises(Conflict) as err:
        fetcher.fetch(offer)
    assert err.value.details["refused"] == "SHIFT_OPEN"
    assert _state(offered) == ("DEFERRED", "open shift")


def test_a_file_missing_from_the_store_is_refused_not_served(offered, built, tmp_path):
    box = offered["box"]
    (offered["store"] / built.name / _wheel(built).name).unlink()
    fetcher = ReleaseFetcher(box.box_id, offered["transport"], tmp_path / "dl", running=None,
                             shift_open=False)  # fmt: skip
    with pytest.raises(Conflict) as err:
        fetcher.fetch(_release_message(box).body)
    assert err.value.details["refused"] == "NOT_AVAILABLE"


def _tamper(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 1000])


@pytest.mark.parametrize("damage", [_tamper, _truncate], ids=["tampered", "truncated"])
def test_a_damaged_artifact_is_refused_with_a_reason_and_nothing_installed(
    offered, built, tmp_path, damage
):
    box = offered["box"]
    damage(offered["store"] / built.name / _wheel(built).name)
    offer = _release_message(box).body
    fetcher = ReleaseFetcher(box.box_id, offered["transport"], tmp_path / "dl", running=None,
                             shift_open=False)  # fmt: skip
    with pytest.raises(ValidationError) as err:
        fetcher.fetch(offer)
    assert err.value.reason == "ARTIFACT_INVALID"
    assert not list((tmp_path / "dl").iterdir())  # the download is gone


def test_a_forged_manifest_fails_the_offered_checksum_and_the_box_reports_why(
    offered, built, tmp_path
):
    """Through the updater's own entry point: the box holds the offer like the sync agent
    stores it, the manifest on the hub was swapped, nothing is installed, and the REFUSED
    report reaches the rollout as a `release.reported` event."""
    box = offered["box"]
    manifest = offered["store"] / built.name / MANIFEST
    manifest.write_text(manifest.read_text().replace('"DEV"', '"PROD"'))
    art = manifest.parent  # SHA256SUMS rewritten to match: only the offered checksum tells
    (art / "SHA256SUMS").write_text(sums_text(art, [_wheel(built).name, MANIFEST]))
    config = make_config(tmp_path, box_id=box.box_id, tenant_id=box.tenant_id,
                         branch_id=box.branch_id)  # fmt: skip
    config_path = tmp_path / "box.json"
    config_path.write_text(config.model_dump_json())
    db = open_database(config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        assert down_messages.apply_down(BoxContext(config), _release_message(box))
    db.close()
    layout = Layout(tmp_path / "root")
    steps: list[str] = []
    report = fetch_and_update(layout, config_path, config, offered["transport"],
                              on_step=steps.append)  # fmt: skip
    assert report["outcome"] == "REFUSED"
    assert report["reason"].startswith("ARTIFACT_INVALID: manifest.json does not match the offered")
    assert steps == ["fetch"]
    assert layout.current_name() is None
    assert not layout.releases.exists()
    db = open_database(config.database_path)
    with db.connection_context():
        rows = outbox.unacked(10)
        events = [json.loads(r.payload) for r in rows]
    db.close()
    reported = [e for e in events if e["type"] == "release.reported"]
    assert [e["payload"]["outcome"] for e in reported] == ["REFUSED"]
    apply_batch(batch_of(box.box_id, events), box.box_id)
    state, reason = _state(offered)
    assert state == "DEFERRED"
    assert reason
    assert reason.startswith("ARTIFACT_INVALID")
