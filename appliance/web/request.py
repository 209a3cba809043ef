"""Request helpers every blueprint shares: the box context, correlation id and body parsing."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from flask import current_app, g, request
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from pydantic import ValidationError as PydanticValidationError

from appliance.core.context import BoxContext
from posdomain.contract import field_details
from posdomain.errors import Reason, ValidationError

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
Money = Annotated[StrictStr, Field(min_length=1, max_length=20)]  # a decimal string
M = TypeVar("M", bound=BaseModel)


class RequestBody(BaseModel):
    """Base of every request body: extra fields, floats for money and bad types refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


def box() -> BoxContext:
    """The box context of this app."""
    ctx: BoxContext = current_app.extensions["box"]
    return ctx


def correlation_id() -> str:
    """This request's correlation id."""
    return str(g.correlation_id)


def json_body(model: type[M]) -> M:
    """Parse the JSON body into `model` (400 MALFORMED_JSON / VALIDATION_FAILED)."""
    raw = request.get_data(cache=False)
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        # RecursionError: nested deeper than the parser goes ("[" * 60 000 fits in a body)
        raise ValidationError("request body is not valid JSON", Reason.MALFORMED_JSON) from err
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "request body does not match the schema",
            Reason.VALIDATION_FAILED,
            field_details(err),
        ) from err
