"""K10, J1 and K2: the arithmetic of renewals at its boundaries, and the twin-pack advice."""

import datetime as dt
import random

import pytest
from django.utils import translation

from licenses.dates import extended_expiry
from licenses.models import Price, Product, RenewalPath, consumption_tax_in
from licenses.selectors import RenewalOption, TermOption, TwinPackUsage, twin_pack_advice


@pytest.mark.parametrize(
    ("expires_on", "paid_on", "term", "expected"),
    [
        # Paid while valid: from the current expiry, whatever time remains.
        (dt.date(2026, 12, 31), dt.date(2026, 1, 1), 1, dt.date(2027, 12, 31)),
        (dt.date(2026, 12, 31), dt.date(2026, 12, 31), 3, dt.date(2029, 12, 31)),  # expiry day
        # Paid after expiry: from the payment day.
        (dt.date(2026, 12, 31), dt.date(2027, 1, 1), 1, dt.date(2028, 1, 1)),
        (dt.date(2025, 3, 1), dt.date(2026, 11, 22), 2, dt.date(2028, 11, 22)),  # lapsed
        # 29 February + 1 year = 28 February; + 4 years stays 29 February.
        (dt.date(2028, 2, 29), dt.date(2028, 1, 10), 1, dt.date(2029, 2, 28)),
        (dt.date(2027, 1, 1), dt.date(2028, 2, 29), 1, dt.date(2029, 2, 28)),
        (dt.date(2028, 2, 29), dt.date(2028, 2, 1), 3, dt.date(2031, 2, 28)),
    ],
)
def test_K10_new_expiry(expires_on, paid_on, term, expected):
    assert extended_expiry(expires_on=expires_on, term_years=term, paid_on=paid_on) == expected


def test_K10_remaining_days_are_never_lost_by_renewing_early():
    expires_on = dt.date(2027, 6, 30)
    early = extended_expiry(expires_on=expires_on, term_years=1, paid_on=dt.date(2026, 7, 1))
    late = extended_expiry(expires_on=expires_on, term_years=1, paid_on=dt.date(2027, 6, 30))
    assert early == late == dt.date(2028, 6, 30)


@pytest.mark.parametrize(
    ("total", "tax"), [(5980, 543), (4790, 435), (11980, 1089), (110, 10), (109, 9), (1, 0)]
)
def test_J1_tax_contained_in_a_tax_inclusive_total_rounds_down(total, tax):
    assert consumption_tax_in(total) == tax


# --- K2: the twin-pack advice claims only what its table shows -----------------------------------


def _option(edition: str, prices: dict[int, int], pk: int):
    """An in-memory renewal option of ``edition`` priced ``{years: yen}`` (no database)."""
    product = Product(code=edition, edition=edition, name_ja=edition, name_en=edition)
    path = RenewalPath(pk=pk, to_product=product, kind=RenewalPath.Kind.CROSSGRADE)
    terms = [
        TermOption(
            term_years=years,
            price=Price(product=product, term_years=years, amount=amount),
            new_expires_on=dt.date(2030, 1, 1),
        )
        for years, amount in prices.items()
    ]
    return RenewalOption(path=path, terms=terms)


# The demo catalog: the 3-year 3-device edition (¥4,493 a year) is cheaper per year than the
# 3-year private edition (¥5,326) that K2 recommends for two successive years on one device.
DEMO_TABLE = {
    Product.Edition.TWIN_PACK: {1: 5980},
    Product.Edition.THREE_DEVICE: {1: 5480, 2: 9980, 3: 13480},
    Product.Edition.PRIVATE: {1: 6480, 2: 11780, 3: 15980},
}


def _advice(table, usage):
    options = [_option(edition, prices, pk) for pk, (edition, prices) in enumerate(table.items())]
    return options, twin_pack_advice(options=options, usage=usage)


def test_K2_two_successive_years_gets_the_3_year_private_edition_without_a_false_cheapest():
    translation.activate("en")
    _options, advice = _advice(DEMO_TABLE, TwinPackUsage.TWO_YEARS)
    assert (advice.product.edition, advice.term) == (Product.Edition.PRIVATE, 3)
    text = " ".join(advice.reasons)
    assert "all your devices" in text and "renewals" in text
    # Better per year than the private edition's own shorter terms: said, with the table's figures.
    assert "¥5,326" in text and "from ¥5,890 a year" in text
    # Not the cheapest of the table (the 3-device edition is): not claimed.
    assert "lowest" not in text and "cheapest" not in text


def test_K2_the_cheapest_claim_appears_exactly_when_the_table_bears_it_out():
    """Every twin-pack answer over varied price tables: each price sentence is true of the table."""
    translation.activate("en")
    rng = random.Random(2026)
    for _round in range(200):
        table = {
            Product.Edition.TWIN_PACK: {1: rng.randrange(3000, 9000)},
            Product.Edition.THREE_DEVICE: {y: rng.randrange(3000, 9000) * y for y in (1, 2, 3)},
            Product.Edition.PRIVATE: {y: rng.randrange(3000, 9000) * y for y in (1, 2, 3)},
        }
        for usage in TwinPackUsage.values:
            options, advice = _advice(table, usage)
            chosen = next(o for o in options if o.path.pk == advice.path_id).term(advice.term)
            text = " ".join(advice.reasons)
            others = [t.per_year for o in options for t in o.terms if t is not chosen]
            assert ("lowest price per year" in text) == (chosen.per_year < min(others))
            shorter = [
                t.per_year
                for t in next(o for o in options if o.path.pk == advice.path_id).terms
                if t.term_years < advice.term
            ]
            claims_shorter = "less than a shorter term" in text
            assert claims_shorter == bool(shorter and chosen.per_year < min(shorter))
            if claims_shorter:
                assert f"¥{chosen.per_year:,}" in text and f"¥{min(shorter):,} a year" in text
