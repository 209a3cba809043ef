"""FR-900: traceability is generated from the tests' requirement markers and the FRD."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.trace import build_rows, collect_tests, read_requirements


@pytest.mark.req("FR-900")
def test_markers_are_collected_per_requirement(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_sample.py").write_text(
        "import pytest\n"
        "pytestmark = [pytest.mark.req('FR-100')]\n"
        "@pytest.mark.req('FR-303', 'NFR-003')\n"
        "def test_one():\n    pass\n"
        "class TestGroup:\n"
        "    @pytest.mark.req('FR-802')\n"
        "    def test_two(self):\n        pass\n"
        "def test_unmarked():\n    pass\n"
    )
    found = collect_tests(tests)
    assert found["FR-100"] == [
        "tests/test_sample.py::TestGroup::test_two",
        "tests/test_sample.py::test_one",
        "tests/test_sample.py::test_unmarked",
    ]
    assert found["FR-303"] == ["tests/test_sample.py::test_one"]
    assert found["FR-802"] == ["tests/test_sample.py::TestGroup::test_two"]


@pytest.mark.req("FR-900")
def test_requirements_without_tests_are_listed(tmp_path: Path) -> None:
    frd = tmp_path / "FRD.md"
    frd.write_text("- **FR-001 Authentication (P0).** text\n- **FR-002 Context (P0).** text\n")
    reqs = read_requirements(frd)
    assert reqs == {"FR-001": "Authentication (P0)", "FR-002": "Context (P0)"}
    rows = build_rows(reqs, {"FR-001": ["tests/x.py::test_a"]})
    assert rows == [
        ("FR-001", "Authentication (P0)", ["tests/x.py::test_a"]),
        ("FR-002", "Context (P0)", []),
    ]


@pytest.mark.req("FR-900")
def test_this_repository_names_the_foundation_requirements() -> None:
    found = collect_tests(Path(__file__).resolve().parent)
    for req in ("FR-001", "FR-100", "FR-303", "FR-802", "NFR-006"):
        assert found.get(req), f"no test names {req}"
