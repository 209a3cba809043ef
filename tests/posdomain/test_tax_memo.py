"""The tax memo (issue 15) never answers from an entry made for other inputs (FR-302).
Written against mutants of posdomain.tax_engine that survived the mutation run (`just mutate`):
the memo property of test_incremental_pricing.py finds these too, but only with its full
example count."""

from __future__ import annotations

from decimal import Decimal

import pytest

from posdomain.errors import ValidationError
from posdomain.tax import TaxConfig, TaxLine, compute_tax, parse_tax_config
from posdomain.tax_engine import TaxMemo

pytestmark = pytest.mark.req("FR-302")

D = Decimal
# a percentage tax and a levy per unit, rounded once per document
LEVY_DOC = parse_tax_config(
    {
        "level": "document",
        "classes": {
            "BTL": {
                "inclusive": False,
                "taxes": [
                    {"code": "VAT", "name": "VAT", "rate": "0.10"},
                    {"code": "DEP", "name": "Bottle levy", "per_unit": "0.25"},
                ],
            }
        },
    }
)


def test_the_same_amount_at_another_quantity_is_taxed_afresh() -> None:
    """Document level: a line's exact taxes are memoised by amount *and* quantity (a levy is
    per unit): 2 bottles for 2.00 pay twice the levy of 1 bottle for 2.00."""
    memo = TaxMemo()
    one = compute_tax([TaxLine("1", "BTL", D("2.00"), D(1))], LEVY_DOC, memo=memo)
    two = compute_tax([TaxLine("1", "BTL", D("2.00"), D(2))], LEVY_DOC, memo=memo)
    assert [p.tax for p in one.lines[0].parts] == [D("0.20"), D("0.25")]
    assert [p.tax for p in two.lines[0].parts] == [D("0.20"), D("0.50")]
    assert two == compute_tax([TaxLine("1", "BTL", D("2.00"), D(2))], LEVY_DOC)


DOC = parse_tax_config({"level": "document", "classes": {"STD": {"rate": "0.10"}}})
LINE = parse_tax_config({"level": "line", "classes": {"STD": {"rate": "0.10"}}})
NET = parse_tax_config({"classes": {"STD": {"rate": "0.10", "inclusive": False}}})


def test_a_line_shares_the_document_rounding_it_is_given_each_time() -> None:
    """Document level: 0.05 net at 10 % alone gets the rounded cent; beside another 0.05 line with
    a smaller id it gets none (the tie goes to the smallest id). The memo keeps a line's
    LineTax by its allocated shares too, so the second document is not answered from the
    first."""
    memo = TaxMemo()
    alone = compute_tax([TaxLine("1", "STD", D("0.05"))], NET, memo=memo)
    pair = [TaxLine("0", "STD", D("0.05")), TaxLine("1", "STD", D("0.05"))]
    beside = compute_tax(pair, NET, memo=memo)
    assert alone.lines[0].tax == D("0.01")
    assert [ln.tax for ln in beside.lines] == [D("0.01"), D("0.00")]
    assert beside == compute_tax(pair, NET)


def test_a_memo_used_with_another_config_starts_over() -> None:
    """The memo's keys do not hold the config: one memo used with another config (a tenant's
    new rates) must not answer from what the first config computed."""
    other = parse_tax_config({"level": "line", "classes": {"STD": {"rate": "0.20"}}})
    memo = TaxMemo()
    lines = [TaxLine("1", "STD", D("10.00"))]
    assert compute_tax(lines, LINE, memo=memo).tax_total == D("0.91")
    assert compute_tax(lines, other, memo=memo) == compute_tax(lines, other)
    assert compute_tax(lines, other, memo=memo).tax_total == D("1.67")
    assert compute_tax(lines, LINE, memo=memo).tax_total == D("0.91")


@pytest.mark.parametrize("cfg", [LINE, DOC], ids=["line", "document"])
def test_the_memo_is_used(cfg: TaxConfig) -> None:
    """Pricing the same document again reuses the memo's per-line results (the same
    objects), at either rounding level: at line level each line's whole LineTax, at
    document level each line's exact taxes and its LineTax for its shares."""
    memo = TaxMemo()
    lines = [TaxLine("1", "STD", D("2.00")), TaxLine("2", "STD", D("3.00"))]
    first = compute_tax(lines, cfg, memo=memo)
    exact = dict(memo.exact)
    again = compute_tax(lines, cfg, memo=memo)
    assert again == first == compute_tax(lines, cfg)
    assert all(a is b for a, b in zip(again.lines, first.lines, strict=True))
    if cfg.level == "line":
        assert (len(memo.lines), memo.exact, memo.shared) == (2, {}, {})
    else:
        assert (len(memo.exact), len(memo.shared), memo.lines) == (2, 2, {})
        assert all(memo.exact[k] is v for k, v in exact.items())


@pytest.mark.parametrize("cfg", [LINE, DOC], ids=["line", "document"])
def test_a_full_memo_starts_over(cfg: TaxConfig) -> None:
    """Bounded: once any of its tables holds `limit` entries, the next call empties it. Three
    lines of the same amount are one validated input but three LineTaxes (by line id)."""
    memo = TaxMemo(limit=3)
    compute_tax([TaxLine(str(i), "STD", D("1.00")) for i in range(3)], cfg, memo=memo)
    compute_tax([TaxLine("9", "STD", D("1.00"))], cfg, memo=memo)
    kept = memo.lines if cfg.level == "line" else memo.shared
    assert (len(memo.valid), len(kept)) == (1, 1)


def test_refused_documents_fill_the_memo_no_further_than_its_limit() -> None:
    """A refused document leaves its good lines' validation in the memo and nothing else:
    those entries count toward the limit too."""
    memo = TaxMemo(limit=2)
    for i in range(4):
        bad = [TaxLine("1", "STD", D(f"{i + 1}.00")), TaxLine("2", "NONE", D("1.00"))]
        with pytest.raises(ValidationError):
            compute_tax(bad, LINE, memo=memo)
        assert len(memo.valid) <= 2
    assert (memo.lines, memo.exact, memo.shared) == ({}, {}, {})
