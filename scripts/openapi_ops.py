"""Rewrite the operations blocks of hub/openapi.yaml from the pydantic models."""

from __future__ import annotations

from hub.app import OPENAPI_PATH
from hub.ops.api_doc import render


def main() -> None:
    """Regenerate and write the document."""
    OPENAPI_PATH.write_text(render(OPENAPI_PATH.read_text()))
    print(f"wrote {OPENAPI_PATH}")


if __name__ == "__main__":
    main()
