"""Fetch the release on offer from the hub over MQTT (FR-703; docs/releases.md "The offer").

The hub's retained `release` down message (stored by the sync agent like every down kind)
names the artifact, its checksum (sha256 of `manifest.json`) and its files. The files come
one chunk per `BoxRequest(kind="release_chunk")` from a byte offset, answered on
`down/reply`; they are appended to `downloads/<name>.partial/<file>` and fsynced, so a
download cut off anywhere resumes where its files end (manifest and SHA256SUMS are small
and fetched whole each time). When every file is complete the manifest's sha256 must equal
the offered checksum and `verify_artifact` must pass (SHA256SUMS, every wheel's sha256 and
size); otherwise the download is deleted and the fetch refused with ARTIFACT_INVALID, and
nothing is installed. A wheel longer or shorter than its manifest entry is refused the same
way. Every request carries the box's running release and whether a shift is open: the hub
answers a box with an open shift, or one no longer offered the artifact, with a refusal.
"""

from __future__ import annotations

import base64
import binascii
import os
import queue
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from appliance.catalog.config_docs import config_body
from appliance.core.db import open_database
from appliance.sync.transport import Transport
from appliance.updates.layout import Layout
from appliance.updates.updater import Step, finish, open_shift, update
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.envelope import BoxReply, BoxRequest, decode, encode
from posdomain.errors import Conflict, HubReason, PosError, Reason, ValidationError
from posdomain.releases import MANIFEST, parse_name, sha256_file, verify_artifact

_FILE = re.compile(r"^[A-Za-z0-9_.+-]+$")
ASK_TIMEOUT_S = 10.0
ASK_TRIES = 3


class FetchIncomplete(Exception):
    """The download stopped before it was complete (no answer, or a chunk budget); the
    files so far are kept and the next fetch resumes there."""


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, HubReason.ARTIFACT_INVALID)


class ReleaseFetcher:
    """Downloads one offered artifact into `downloads/` over a box transport."""

    def __init__(
        self,
        box_id: str,
        transport: Transport,
        downloads: Path,
        *,
        running: str | None,
        shift_open: bool,
        ask_timeout: float = ASK_TIMEOUT_S,
    ) -> None:
        self.box_id = box_id
        self.transport = transport
        self.downloads = downloads
        self.running = running
        self.shift_open = shift_open
        self.ask_timeout = ask_timeout
        self.chunks = 0  # chunks received by this fetcher (resuming asks for fewer)
        self._replies: queue.Queue[bytes] = queue.Queue()
        transport.subscribe(topics.box_reply(box_id), lambda _t, raw: self._replies.put(raw))

    def _ask(self, artifact: str, file: str, offset: int) -> dict[str, Any]:
        request = BoxRequest(
            box_id=self.box_id,
            kind="release_chunk",
            since_version=offset,
            artifact=artifact,
            file=file,
            running=self.running,
            shift_open=self.shift_open,
            request_id=uuid.uuid4(),
        )
        for _try in range(ASK_TRIES):
            self.transport.publish(topics.box_request(self.box_id), encode(request), qos=1)
            while True:
                try:
                    raw = self._replies.get(timeout=self.ask_timeout)
                except queue.Empty:
                    break  # ask again
                try:
                    reply = decode(raw, BoxReply)
                except PosError:
                    continue  # another kind of reply on the same topic
                if reply.request_id == request.request_id and reply.kind == "release_chunk":
                    return reply.body
        raise FetchIncomplete(f"no answer for {file} at {offset}")

    def fetch(self, offer: dict[str, Any], max_chunks: int | None = None) -> Path:
        """The verified artifact directory `downloads/<name>` (ValidationError ARTIFACT_INVALID
        if it does not match the offer; Conflict if the hub refused; FetchIncomplete)."""
        name = str(offer.get("artifact") or "")
        parse_name(name)
        final = self.downloads / name
        if (final / MANIFEST).is_file():
            return self._verified(final, str(offer.get("checksum")))
        partial = self.downloads / f"{name}.partial"
        partial.mkdir(parents=True, exist_ok=True)
        budget = max_chunks
        for entry in offer.get("files") or []:
            file = str(entry.get("file") or "")
            if not _FILE.match(file):
                raise _invalid(f"bad file name {file!r} in the offer")
            size = entry.get("size")
            path = partial / file
            if size is None:
                path.unlink(missing_ok=True)  # small and unpinned by size: fetched whole
            while True:
                have = path.stat().st_size if path.exists() else 0
                if size is not None and have >= int(size):
                    if have > int(size):
                        self._discard(partial)
                        raise _invalid(f"{file} is longer than its manifest entry")
                    break
                if budget is not None:
                    if budget <= 0:
                        raise FetchIncomplete(f"stopped in {file} at {have}")
                    budget -= 1
                body = self._ask(name, file, have)
                if body.get("refused"):
                    raise Conflict(
                        f"the hub refused the download: {body['refused']}",
                        Reason.INVALID_TRANSITION,
                        {"refused": body["refused"]},
                    )
                if body.get("offset") != have or body.get("file") != file:
                    continue  # a late answer to an earlier request
                try:
                    data = base64.b64decode(str(body.get("data") or ""), validate=True)
                except (binascii.Error, ValueError) as err:
                    raise _invalid(f"bad chunk of {file}") from err
                self.chunks += 1
                with path.open("ab") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                if body.get("eof"):
                    if size is not None and have + len(data) != int(size):
                        self._discard(partial)
                        raise _invalid(
                            f"{file} ended at {have + len(data)} bytes, its manifest says {size}"
                        )
                    break
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        return self._verified(final, str(offer.get("checksum")))

    def _verified(self, directory: Path, checksum: str) -> Path:
        try:
            if sha256_file(directory / MANIFEST) != checksum:
                raise _invalid("manifest.json does not match the offered checksum")
            verify_artifact(directory)
        except (ValidationError, OSError) as err:
            self._discard(directory)
            if isinstance(err, ValidationError):
                raise
            raise _invalid(str(err)) from err
        return directory

    @staticmethod
    def _discard(directory: Path) -> None:
        shutil.rmtree(directory, ignore_errors=True)


def held_offer(config: BoxConfig) -> dict[str, Any] | None:
    """The `release` body the sync agent last applied (None before any, or no database)."""
    if not Path(config.database_path).is_file():
        return None
    db = open_database(config.database_path)
    try:
        with db.connection_context():
            return config_body("release")
    finally:
        db.close()


def fetch_and_update(
    layout: Layout,
    config_path: Path,
    config: BoxConfig,
    transport: Transport,
    *,
    on_step: Step,
    ask_timeout: float = ASK_TIMEOUT_S,
) -> dict[str, Any]:
    """Fetch the offered release over MQTT and install it with the updater; the report.

    outcome NOTHING (no offer, or already running it), REFUSED (open shift, the hub refused,
    or the artifact failed its checks: then nothing is installed and the report, with its
    reason code, goes to the hub as `release.reported`), else the updater's GOOD or
    ROLLED_BACK.
    """
    offer = held_offer(config) or {}
    name = offer.get("artifact")
    running = layout.current_name()
    if not name or name == running:
        return {"artifact": name, "outcome": "NOTHING", "reason": None, "checks": {}}
    if open_shift(config.database_path):
        return {"artifact": name, "outcome": "REFUSED", "reason": "open shift", "checks": {}}
    on_step("fetch")
    fetcher = ReleaseFetcher(
        config.box_id, transport, layout.root / "downloads", running=running,
        shift_open=False, ask_timeout=ask_timeout,
    )  # fmt: skip
    try:
        artifact = fetcher.fetch(offer)
    except ValidationError as err:
        report = {"artifact": name, "outcome": "REFUSED",
                  "reason": f"{err.reason}: {err.message}"[:200], "checks": {}}  # fmt: skip
        finish(layout, config, report)
        return report
    except Conflict as err:  # the hub said no (open shift, not offered): it knows already
        return {"artifact": name, "outcome": "REFUSED", "reason": err.message, "checks": {}}
    return update(layout, artifact, config_path, config, on_step=on_step)
