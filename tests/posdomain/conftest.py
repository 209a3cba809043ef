"""Domain tests start from cold caches: the memoised parsers of posdomain.money and
posdomain.sale_checks would otherwise answer from results an earlier test (or mutmut's stats
run, whose process the mutant workers fork from) computed, so a test could pass without the
code under test running at all (docs/mutation.md)."""

from __future__ import annotations

import pytest

from posdomain import money, sale_checks

CACHED = (
    money.quantum,
    money._parse_str,
    money._minor_str,
    sale_checks._good_quantity,
    sale_checks._good_rate,
    sale_checks.tax_ok,
)


@pytest.fixture(autouse=True)
def _cold_caches() -> None:
    for fn in CACHED:
        fn.cache_clear()
