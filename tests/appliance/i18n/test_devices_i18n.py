"""NFR-007: every reason code the box can return, and every device state, in en and de."""

from __future__ import annotations

import pytest

from appliance.i18n.messages import MESSAGES, catalog_for
from drivers.base import DeviceStatus
from posdomain.errors import BOX_MESSAGES_PENDING, INGEST_REASONS, Reason

STATES = {
    DeviceStatus(online=True).state,
    DeviceStatus(online=False).state,
    DeviceStatus(online=True, paper_low=True).state,
    DeviceStatus(online=True, paper_out=True).state,
    DeviceStatus(online=True, cover_open=True).state,
    DeviceStatus(online=False, unplugged=True).state,
    "unknown",
}


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_reason_has_a_message(lang: str) -> None:
    # ingest refusals are never a box HTTP answer, but the till shows refused events by them
    assert not INGEST_REASONS - set(Reason)
    assert not BOX_MESSAGES_PENDING, "every reason has its box texts now"
    box_reasons = list(Reason)
    missing = [r.value for r in box_reasons if not MESSAGES[lang].get(r.value)]
    assert missing == [], f"{lang} lacks messages for {missing}"


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_device_state_and_ui_key_is_translated(lang: str) -> None:
    assert {f"state.{s}" for s in STATES} <= set(MESSAGES[lang])
    ui_keys = {k for k in MESSAGES["en"] if k.startswith("ui.")}
    assert ui_keys <= set(MESSAGES[lang])


def test_german_is_really_german() -> None:
    de = catalog_for("de-AT")
    assert de["PAPER_OUT"] != MESSAGES["en"]["PAPER_OUT"]
    assert de["state.unplugged"] == "nicht verbunden"
