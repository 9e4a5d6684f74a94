"""K10 and J1: the arithmetic of renewals, at its boundaries."""

import datetime as dt

import pytest

from licenses.dates import extended_expiry
from licenses.models import consumption_tax_in


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
