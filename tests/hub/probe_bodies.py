"""Request bodies for the generated cross-tenant probe (tests/hub/test_scope_probes.py), made
from the OpenAPI request schemas: a minimal valid body (required properties, plus every id
property) and the paths of its id properties, so the probe can put another tenant's id in
each one in turn. An id property is one whose name ends in `_id`/`_ids` or whose schema has
`format: uuid`; arrays of ids get one item."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Path = tuple[str | int, ...]
Fill = Callable[[str], str]


def is_id(name: str, schema: dict[str, Any]) -> bool:
    """True for a property that names an object by id."""
    return name.endswith(("_id", "_ids")) or schema.get("format") == "uuid"


class Maker:
    """Builds bodies against one OpenAPI document's components."""

    def __init__(self, components: dict[str, Any], known: dict[str, Any] | None = None) -> None:
        self.components = components
        self.known = known or {}  # property name -> a value the API accepts (e.g. scopes)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema behind `$ref`s."""
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def _option(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                real = [o for o in options if o.get("type") != "null"]
                return self._option(real[0] if real else options[0])
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged |= self._option(part)
            return merged
        return schema

    def body(self, schema: dict[str, Any], fill: Fill) -> tuple[Any, list[Path]]:
        """(a minimal valid body, the paths of its id leaves)."""
        ids: list[Path] = []
        return self._value(schema, fill, (), None, ids), ids

    def _value(self, schema: dict[str, Any], fill: Fill, path: Path, name: str | None,
               ids: list[Path]) -> Any:  # fmt: skip
        s = self._option(schema)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            return s["enum"][0]
        kind = s.get("type")
        if kind == "object" or "properties" in s:
            required = set(s.get("required", []))
            out = {}
            for prop, sub in s.get("properties", {}).items():
                sub_s = self._option(sub)
                if prop in self.known:
                    out[prop] = self.known[prop]
                elif prop in required or is_id(prop, sub_s) or self._holds_ids(sub_s):
                    out[prop] = self._value(sub, fill, (*path, prop), prop, ids)
            return out
        if kind == "array":
            items = s.get("items", {})
            wants = bool(name) and (
                str(name).endswith("_ids") or self._holds_ids(self._option(items))
            )
            count = max(int(s.get("minItems", 0)), 1 if wants else 0)
            return [self._value(items, fill, (*path, n), name, ids) for n in range(count)]
        if kind == "string":
            if name is not None and is_id(name, s):
                ids.append(path)
                return fill(name)
            return self._text(s)
        if kind in ("integer", "number"):
            return self._number(s, kind)
        if kind == "boolean":
            return False
        return None

    def _holds_ids(self, schema: dict[str, Any], depth: int = 0) -> bool:
        if depth > 4:
            return False
        if schema.get("type") == "array":
            return self._holds_ids(self._option(schema.get("items", {})), depth + 1)
        return any(
            is_id(p, self._option(sub)) or self._holds_ids(self._option(sub), depth + 1)
            for p, sub in schema.get("properties", {}).items()
        )

    @staticmethod
    def _number(s: dict[str, Any], kind: str) -> float | int:
        low = s.get("minimum", s.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in s else 0))
        value = max(1, low)
        if "maximum" in s:
            value = min(value, s["maximum"])
        return int(value) if kind == "integer" else float(value)

    @staticmethod
    def _text(s: dict[str, Any]) -> str:
        fmt = s.get("format")
        tag = uuid.uuid4().hex[:8]
        if fmt == "date-time":
            return datetime.now(UTC).isoformat()
        if fmt == "date":
            return datetime.now(UTC).date().isoformat()
        if fmt == "email":
            return f"p{tag}@example.test"
        if fmt in ("uri", "url"):
            return "http://127.0.0.1:9/probe"
        low, high = int(s.get("minLength", 1)), int(s.get("maxLength", 40))
        pattern = s.get("pattern")
        for candidate in (f"Probe {tag}", f"probe{tag}", f"P{tag.upper()}", "1.00", "1", "ABC"):
            text = (candidate * (1 + low // max(1, len(candidate))))[
                : max(low, min(high, len(candidate)))
            ]
            if pattern is None or re.search(pattern, text):
                return text
        return "x" * low


def put(body: Any, path: Path, value: str) -> Any:
    """A copy of `body` with the leaf at `path` set to `value`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, list):
        out = list(body)
        out[int(head)] = put(body[int(head)], rest, value)
        return out
    return {**body, str(head): put(body[str(head)], rest, value)}


def leaf_name(path: Path) -> str:
    """The property name of an id leaf (the array's name for an item of a list of ids)."""
    return next(str(p) for p in reversed(path) if isinstance(p, str))
