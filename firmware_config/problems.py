"""Turn pydantic errors into sentences that say what to fix (field path + allowed values)."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The nested model class found by following `loc` from `root` (None if not a model)."""
    current: type[BaseModel] = root
    for part in loc:
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *typing.get_args(annotation)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        current = nested[0]
    return current


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _unknown_field(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    model = _model_at(root, parent)
    known = sorted(model.model_fields) if model else []
    where = f"{_path(parent)}: " if parent else ""
    text = f"{where}unknown field '{key}'"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        text += f" — did you mean '{close[0]}'?"
    if known:
        text += f" (allowed: {', '.join(known)})"
    return text


def _literal(path: str, value: Any, expected: str) -> str:
    allowed = [v.strip().strip("'") for v in expected.replace(" or ", ", ").split(",")]
    allowed = [a for a in allowed if a]
    text = f"{path}: {value!r} is not allowed"
    close = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
    if close:
        text += f" — did you mean '{close[0]}'?"
    return text + f" (allowed: {', '.join(allowed)})"


def _one(root: type[BaseModel], err: Any) -> str:
    loc: tuple[Any, ...] = tuple(err["loc"])
    path = _path(loc) or "config"
    kind, msg = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        return _unknown_field(root, loc)
    if kind == "missing":
        return f"{path}: required field is missing"
    if kind == "literal_error":
        return _literal(path, err.get("input"), str(err.get("ctx", {}).get("expected", "")))
    if kind == "model_type" or kind == "dict_type":
        return f"{path}: expected a mapping of fields, got {type(err.get('input')).__name__}"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        return f"{path}: {err.get('input')!r} does not match {pattern} (letters, digits, _.:-)"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        return text if text.startswith((f"{path}:", f"{path}.")) else f"{path}: {text}"
    return f"{path}: {msg} (got {err.get('input')!r})"


def describe(err: PydanticValidationError, root: type[BaseModel]) -> list[str]:
    """Every problem of a failed validation, one sentence each, in file order."""
    return [_one(root, e) for e in err.errors()]
