"""Answers shaped by their pydantic response model, so the model is the documented truth."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def shaped(model: type[BaseModel], data: Any) -> dict[str, Any]:
    """`data` validated by the response model and dumped as JSON-ready data."""
    return model.model_validate(data).model_dump(mode="json")
