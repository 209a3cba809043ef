"""One ingest batch reads each config version once (`hub.governance.config.read_once`): the
rules, the report facts and the cashier figures of the batch share the row; the next batch
(a new block) sees a version committed in between — nothing cached across batches."""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.governance import config
from scripts.testkit.crafted import T

pytestmark = [pytest.mark.pg]


@pytest.mark.req("FR-303", "NFR-003")
def test_a_batch_reads_a_version_once_and_the_next_batch_sees_a_new_one(app: Any) -> None:
    with tenant_tx(T), config.read_once():
        first = config.current(T, "pricing")
        assert first is not None
        assert config.current(T, "pricing") is first, "read once inside the batch"
        branding = config.current(T, "branding")
    with tenant_tx(T):
        assert config.current(T, "pricing") is not first, "outside a batch: read each time"
        body = dict(branding.body) if branding else {}
        written = config.write_version(None, T, "branding", body, "test: next").version
    with tenant_tx(T), config.read_once():
        now = config.current(T, "branding")
        assert now is not None
        assert now.version == written, "the next batch reads the version committed meanwhile"
