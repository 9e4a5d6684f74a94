"""Database constraints and the status derived from dates (DESIGN 3)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from licenses.models import License, LicenseStatus, license_status
from tests.factories import (
    ActivationCodeFactory,
    LicenseFactory,
    PriceFactory,
    ProductFactory,
    RenewalPathFactory,
)

pytestmark = pytest.mark.django_db


def rejected(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


def test_one_price_per_product_term_kind_and_window_start():
    price = PriceFactory()
    assert rejected(
        PriceFactory,
        product=price.product,
        term_years=price.term_years,
        kind=price.kind,
        valid_from=price.valid_from,
    )
    # A new window for the same product, term and kind is fine.
    PriceFactory(
        product=price.product,
        term_years=price.term_years,
        kind=price.kind,
        valid_from=price.valid_from + dt.timedelta(days=30),
    )


@pytest.mark.parametrize("term", [0, 4])
def test_price_term_must_be_1_to_3_years(term):
    assert rejected(PriceFactory, term_years=term)


def test_price_amount_must_be_positive():
    assert rejected(PriceFactory, amount=0)


def test_price_window_must_not_end_before_it_starts():
    assert rejected(PriceFactory, valid_from=dt.date(2026, 5, 1), valid_until=dt.date(2026, 4, 30))


def test_per_year_price_is_derived_and_rounded_down():
    assert PriceFactory(term_years=3, amount=13480).per_year == 4493


def test_serials_are_unique():
    license = LicenseFactory()
    assert rejected(LicenseFactory, serial=license.serial)


def test_license_must_expire_after_it_starts():
    day = dt.date(2026, 4, 1)
    assert rejected(LicenseFactory, starts_on=day, expires_on=day)


def test_license_seats_must_be_positive_or_unlimited():
    assert rejected(LicenseFactory, seats=0)
    assert LicenseFactory(seats=None).seats is None


def test_product_seat_limit_must_be_positive_or_unlimited():
    assert rejected(ProductFactory, seat_limit=0)


def test_activation_codes_are_unique_and_23_characters():
    code = ActivationCodeFactory()
    assert rejected(ActivationCodeFactory, code=code.code)
    assert rejected(ActivationCodeFactory, code="01234-56789-ABCDE")


def test_redeemed_code_must_name_its_license():
    assert rejected(ActivationCodeFactory, state="redeemed", license=None)


def test_activation_code_term_must_be_1_to_3_years():
    assert rejected(ActivationCodeFactory, term_years=5)


def test_renewal_path_pairs_are_unique():
    path = RenewalPathFactory()
    assert rejected(RenewalPathFactory, from_product=path.from_product, to_product=path.to_product)


def test_renewal_path_kind_same_iff_same_product():
    product, other = ProductFactory(), ProductFactory()
    assert rejected(RenewalPathFactory, from_product=product, to_product=other, kind="same")
    assert rejected(RenewalPathFactory, from_product=product, to_product=product, kind="upgrade")


TODAY = dt.date(2026, 11, 22)


@pytest.mark.parametrize(
    ("expires_on", "expected"),
    [
        (dt.date(2026, 12, 23), LicenseStatus.ACTIVE),  # 31 days ahead
        (dt.date(2026, 12, 22), LicenseStatus.EXPIRING_SOON),  # 30 days ahead
        (TODAY, LicenseStatus.EXPIRING_SOON),  # the expiry day is still valid
        (dt.date(2026, 11, 21), LicenseStatus.EXPIRED),  # expired yesterday
        (dt.date(2025, 11, 22), LicenseStatus.EXPIRED),  # exactly one year ago
        (dt.date(2025, 11, 21), LicenseStatus.LAPSED),  # more than one year ago
    ],
)
def test_status_is_derived_from_dates_at_each_boundary(expires_on, expected):
    assert license_status(expires_on=expires_on, revoked=False, today=TODAY) == expected
    license = LicenseFactory(expires_on=expires_on)
    assert license.status_on(TODAY) == expected
    # The database filter used by admin agrees with the Python rule.
    assert list(License.objects.with_status(expected, today=TODAY)) == [license]


def test_revoked_wins_over_dates():
    license = LicenseFactory(revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert license.status == LicenseStatus.REVOKED
    assert list(License.objects.with_status(LicenseStatus.REVOKED)) == [license]
    assert not License.objects.with_status(LicenseStatus.ACTIVE).exists()


def test_status_of_a_license_expiring_on_29_february():
    leap = dt.date(2028, 2, 29)
    assert license_status(expires_on=leap, revoked=False, today=dt.date(2029, 2, 28)) == (
        LicenseStatus.EXPIRED
    )
    assert license_status(expires_on=leap, revoked=False, today=dt.date(2029, 3, 1)) == (
        LicenseStatus.LAPSED
    )
