"""Calendar arithmetic for license terms (K10)."""

import datetime as dt


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def extended_expiry(*, expires_on: dt.date, term_years: int, paid_on: dt.date) -> dt.date:
    """K10: a renewal runs from the current expiry while the license is valid, and from the day
    the payment cleared once it has expired: remaining days are never lost."""
    start = expires_on if paid_on <= expires_on else paid_on
    return add_years(start, term_years)
