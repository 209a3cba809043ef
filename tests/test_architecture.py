"""FR-800: the package boundaries hold (checked on the source, not by convention).

Every check here reads the code as text (AST), so a new module that breaks a rule fails the
suite: imports between packages, import cycles between modules, function-local imports of
project modules (a hidden cycle is still one), private modules taken from another area,
tables declared outside an area's `models.py`, and areas the architecture document does not
name (or names without a folder).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVICE_LIBS = {"escpos", "serial", "evdev", "usb"}
FRAMEWORK_LIBS = {"flask", "peewee", "playhouse", "paho", "psycopg2", "werkzeug", "jinja2"}
PROJECT = ("posdomain", "appliance", "hub", "drivers", "firmware_config", "provisioning", "scripts")
# packages whose modules may import project modules only at module level
NO_LOCAL_IMPORTS = ("posdomain", "hub", "appliance", "drivers", "firmware_config", "provisioning")
# a CLI loads only the stack of the command it runs (Flask for serve, paho for sync, ...)
LAZY_CLI = {"appliance/__main__.py"}


@dataclass(frozen=True)
class Import:
    """One import statement of a module: what it names and whether it sits in a function."""

    target: str
    names: tuple[str, ...]
    local: bool
    line: int


def module_name(path: Path) -> str:
    """Dotted module name of a file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(*packages: str) -> Iterator[Path]:
    """Every .py file of the named top-level packages."""
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def imports_of(path: Path) -> list[Import]:
    """Absolute imports of a module, marking those inside a function body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, (), local, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = tuple(a.name for a in child.names)
                found.append(Import(child.module, names, local, child.lineno))
            visit(child, inner)

    visit(tree, False)
    return found


def project_graph() -> dict[str, set[str]]:
    """module → project modules it imports (a `from pkg import mod` names the module)."""
    files = {module_name(p): p for p in source_files(*PROJECT)}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for me, path in files.items():
        edges: set[str] = set()
        for imp in imports_of(path):
            candidates = [f"{imp.target}.{n}" for n in imp.names] + [imp.target]
            for cand in candidates:
                while cand and cand not in modules:
                    cand = cand.rpartition(".")[0]
                if cand and cand != me:
                    edges.add(cand)
        graph[me] = edges
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: groups of two or more modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def imported_roots(package: str) -> dict[str, set[str]]:
    """Map each module file of `package` to the top-level names it imports."""
    return {
        str(p.relative_to(ROOT)): {i.target.split(".")[0] for i in imports_of(p)}
        for p in source_files(package)
    }


@pytest.mark.req("FR-800")
@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("posdomain", FRAMEWORK_LIBS | DEVICE_LIBS | {"hub", "appliance", "drivers"}),
        ("appliance", {"hub"} | DEVICE_LIBS),
        ("hub", {"appliance", "drivers", "firmware_config"} | DEVICE_LIBS),
        ("firmware_config", FRAMEWORK_LIBS | DEVICE_LIBS | {"hub", "appliance"}),
        ("drivers", {"hub", "appliance", "firmware_config", "flask", "peewee", "paho"}),
        ("provisioning", {"hub", "flask", "peewee", "psycopg2"} | DEVICE_LIBS),
        ("scripts", {"tests"}),
    ],
)
def test_package_imports_respect_boundaries(package: str, forbidden: set[str]) -> None:
    """Domain stays pure; appliance and hub never import each other; only drivers touch devices;
    scripts never import tests (tests import scripts.testkit, not the other way round)."""
    modules = imported_roots(package)
    assert modules, f"{package} has no modules"
    offenders = {m: sorted(n & forbidden) for m, n in modules.items() if n & forbidden}
    assert offenders == {}


@pytest.mark.req("FR-800")
def test_provisioning_takes_only_the_device_mapping_from_the_box() -> None:
    """The self-test builds devices exactly as the box does, through the box's one mapping
    from its config to the drivers' spec; nothing else of the box is imported."""
    used = {
        i.target
        for p in source_files("provisioning")
        for i in imports_of(p)
        if i.target.split(".")[0] == "appliance"
    }
    assert used == {"appliance.devices.driver_spec"}


@pytest.mark.req("FR-800")
def test_no_import_cycle_between_modules() -> None:
    """No two project modules import each other, directly or around a loop."""
    assert strongly_connected(project_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check above can fail: a two-module and a three-module loop are both found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert strongly_connected(graph) == [["a", "b"], ["c", "d", "e"]]


@pytest.mark.req("FR-800")
def test_project_modules_are_imported_at_module_level() -> None:
    """A function-local import of a project module hides a dependency (and often a cycle)."""
    offenders = [
        f"{p.relative_to(ROOT)}:{i.line} {i.target}"
        for p in source_files(*NO_LOCAL_IMPORTS)
        if str(p.relative_to(ROOT)) not in LAZY_CLI
        for i in imports_of(p)
        if i.local and i.target.split(".")[0] in PROJECT
    ]
    assert offenders == []


def area_of(module: str) -> str | None:
    """`hub.catalog.store` → `hub.catalog`; top-level modules (hub.app) have no area."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else None


@pytest.mark.req("FR-800")
def test_no_area_takes_another_areas_private_parts() -> None:
    """`_impl.py` modules and `_names` are private to their area."""
    offenders = []
    for path in source_files("hub", "appliance"):
        me = module_name(path)
        for imp in imports_of(path):
            if imp.target.split(".")[0] not in ("hub", "appliance"):
                continue
            same_area = area_of(imp.target) == area_of(me) or imp.target.startswith(
                f"{area_of(me)}."
            )
            private_module = any(part.startswith("_") for part in imp.target.split("."))
            private_names = [n for n in imp.names if n.startswith("_")]
            if not same_area and (private_module or private_names):
                offenders.append(f"{me}:{imp.line} from {imp.target} import {imp.names}")
    assert offenders == []


def _model_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bases = {"BaseModel", "DbModel", "Model"}
    out = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names = {b.id for b in node.bases if isinstance(b, ast.Name)}
            metas = [n for n in node.body if isinstance(n, ast.ClassDef) and n.name == "Meta"]
            if names & bases and metas:
                out.append(node.name)
    return out


@pytest.mark.req("FR-800")
@pytest.mark.parametrize("package", ["hub", "appliance"])
def test_tables_are_declared_in_their_areas_models_module(package: str) -> None:
    """No table declared inside a service module, no `models_*.py` overflow file."""
    offenders = {
        str(p.relative_to(ROOT)): _model_classes(p)
        for p in source_files(package)
        if p.name not in ("models.py",) and _model_classes(p) and "migrations" not in p.parts
    }
    assert offenders == {}
    assert not list((ROOT / package).rglob("models_*.py"))


AREA_TABLES = {"hub": "## Hub areas", "appliance": "## The box by area"}


def documented_areas(package: str) -> set[str]:
    """Area folders named in the first column of that package's table in docs/architecture.md
    (`hub/catalog/` in the hub table, `till/` in the box table)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split(AREA_TABLES[package], 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| `([a-z0-9_/]+)/` \|", section, flags=re.M)
    return {n.removeprefix(f"{package}/") for n in names}


@pytest.mark.req("FR-800")
@pytest.mark.parametrize("package", ["hub", "appliance"])
def test_every_area_is_documented_and_every_documented_area_exists(package: str) -> None:
    """A newcomer finds any concern from the tree and the architecture document alike: each
    folder of the package is an area named in docs/architecture.md, and each named area exists."""
    tree = {
        p.name
        for p in (ROOT / package).iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name != "migrations"
    }
    assert documented_areas(package) == tree
