"""Error hierarchy: statuses, default reasons and the one JSON body shape."""

from __future__ import annotations

import pytest

from posdomain.errors import (
    Conflict,
    Forbidden,
    Locked,
    NotFound,
    PayloadTooLarge,
    PosError,
    Reason,
    Unauthenticated,
    ValidationError,
)


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("cls", "status", "reason"),
    [
        (PosError, 400, Reason.VALIDATION_FAILED),
        (ValidationError, 400, Reason.VALIDATION_FAILED),
        (Unauthenticated, 401, Reason.AUTH_REQUIRED),
        (Forbidden, 403, Reason.FORBIDDEN_ROLE),
        (NotFound, 404, Reason.NOT_FOUND),
        (Conflict, 409, Reason.CONFLICT),
        (PayloadTooLarge, 413, Reason.PAYLOAD_TOO_LARGE),
        (Locked, 423, Reason.ACCOUNT_LOCKED),
    ],
)
def test_status_and_default_reason(cls: type[PosError], status: int, reason: Reason) -> None:
    err = cls("nope")
    assert isinstance(err, PosError)
    assert err.status == status
    assert err.reason is reason
    assert err.to_dict() == {"error": {"reason": reason.value, "message": "nope"}}


@pytest.mark.req("FR-800")
def test_to_dict_includes_details_and_explicit_reason() -> None:
    err = Forbidden("not yours", Reason.FORBIDDEN_TENANT, {"tenant": "t2"})
    assert err.to_dict() == {
        "error": {"reason": "FORBIDDEN_TENANT", "message": "not yours", "details": {"tenant": "t2"}}
    }
    assert str(err) == "not yours"


def test_reason_values_equal_their_names() -> None:
    # Reason codes are a stable contract: value == name, all upper snake case.
    for reason in Reason:
        assert reason.value == reason.name
        assert reason.value.isupper()
