"""FR-800: the package boundaries hold (checked on the source, not by convention)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVICE_LIBS = {"escpos", "serial", "evdev", "usb"}
FRAMEWORK_LIBS = {"flask", "peewee", "playhouse", "paho", "psycopg2", "werkzeug", "jinja2"}


def imported_modules(package: str) -> dict[str, set[str]]:
    """Map each module file of `package` to the full module names it imports (absolute)."""
    out: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        out[str(path.relative_to(ROOT))] = names
    return out


def imported_roots(package: str) -> dict[str, set[str]]:
    """Map each module file of `package` to the top-level names it imports."""
    return {
        module: {name.split(".")[0] for name in names}
        for module, names in imported_modules(package).items()
    }


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("posdomain", FRAMEWORK_LIBS | DEVICE_LIBS | {"hub", "appliance", "drivers"}),
        ("appliance", {"hub"} | DEVICE_LIBS),
        ("hub", {"appliance", "drivers"} | DEVICE_LIBS),
        ("firmware_config", FRAMEWORK_LIBS | DEVICE_LIBS | {"hub", "appliance"}),
        ("drivers", {"hub", "appliance", "firmware_config", "flask", "peewee", "paho"}),
        ("provisioning", {"hub", "flask", "peewee", "psycopg2"} | DEVICE_LIBS),
    ],
)
def test_package_imports_respect_boundaries(package: str, forbidden: set[str]) -> None:
    """Domain stays pure; appliance and hub never import each other; only drivers touch devices."""
    modules = imported_roots(package)
    assert modules, f"{package} has no modules"
    offenders = {m: sorted(n & forbidden) for m, n in modules.items() if n & forbidden}
    assert offenders == {}


@pytest.mark.req("FR-800")
def test_provisioning_takes_only_the_device_mapping_from_the_box() -> None:
    """The self-test builds devices exactly as the box does, through the box's one mapping
    from its config to the drivers' spec; nothing else of the box is imported."""
    used = {
        name
        for names in imported_modules("provisioning").values()
        for name in names
        if name.split(".")[0] == "appliance"
    }
    assert used == {"appliance.devices.driver_spec"}


@pytest.mark.req("FR-800")
def test_top_level_layout_exists() -> None:
    """The tree shows the architecture."""
    for name in (
        "appliance",
        "hub",
        "drivers",
        "firmware_config",
        "provisioning",
        "posdomain",
        "tests",
        "docs",
    ):
        assert (ROOT / name).is_dir(), name
    for name in (
        "pyproject.toml",
        "Justfile",
        "README.md",
        ".ci/run",
        "docs/architecture.md",
        "docs/dependencies.md",
        "docs/sync-protocol.md",
    ):
        assert (ROOT / name).is_file(), name
