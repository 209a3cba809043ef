"""Domain tests start from cold caches: the memoised parsers of posdomain.money,
posdomain.doc_checks and posdomain.line_checks would otherwise answer from results an
earlier test (or mutmut's stats run, whose process the mutant workers fork from) computed,
so a test could pass without the code under test running at all (docs/mutation.md).

With CFPOS_MUTATION=1 (scripts/mutate_module.py sets it for mutmut) every hypothesis property
runs under the "mutation" profile: at most MUTATION_EXAMPLES examples (fewer if the test asks
for fewer), derandomized (the same examples in every run, so a mutant's verdict is
reproducible), no deadline, no example database, and no shrinking (a failing example kills
the mutant; the smallest one is of no use there). The properties still run on every mutant
their function reaches, each at a fraction of its cost."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from posdomain import doc_checks, line_checks, money

MUTATION_RUN = os.environ.get("CFPOS_MUTATION") == "1"
MUTATION_EXAMPLES = 10
MUTATION_SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "phases": (Phase.explicit, Phase.reuse, Phase.generate),
    "suppress_health_check": list(HealthCheck),
}
settings.register_profile("mutation", max_examples=MUTATION_EXAMPLES, **MUTATION_SETTINGS)
if MUTATION_RUN:
    settings.load_profile("mutation")

CACHED = (
    money.quantum,
    money._parse_str,
    money._minor_str,
    doc_checks._good_quantity,
    doc_checks._good_rate,
    line_checks.tax_ok,
)


@pytest.fixture(autouse=True)
def _cold_caches() -> None:
    for fn in CACHED:
        fn.cache_clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a mutation run, cap the examples of properties that set their own `@settings`
    (those override the profile) and give them the profile's other settings."""
    if not MUTATION_RUN:
        return
    for item in items:
        fn: Any = getattr(item, "obj", None)
        fn = getattr(fn, "__func__", fn)
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        if getattr(fn, "is_hypothesis_test", False) and own is not None:
            examples = min(own.max_examples, MUTATION_EXAMPLES)
            fn._hypothesis_internal_use_settings = settings(
                own, max_examples=examples, **MUTATION_SETTINGS
            )
