"""Helpers for checkout tests: a small catalog and a license with its renewal paths."""

import datetime as dt

from django.utils import timezone

from licenses.models import PriceKind, Product, RenewalPath
from tests.factories import LicenseFactory, PriceFactory, ProductFactory, RenewalPathFactory

PRICES = {1: 4790, 2: 8990, 3: 11980}


def priced_product(**kwargs) -> Product:
    product = ProductFactory(**kwargs)
    for term, amount in PRICES.items():
        PriceFactory(product=product, term_years=term, kind=PriceKind.RENEWAL, amount=amount)
    return product


def renewable_license(*, owner, days_left: int = 20, upgrade: bool = False, **license_kwargs):
    """A Cloud license renewable as itself (and, with ``upgrade``, as Total Security)."""
    cloud = priced_product(
        line=Product.Line.CLOUD,
        edition=Product.Edition.CLOUD,
        name_ja="まもり クラウド",
        name_en="Mamori Cloud",
    )
    RenewalPathFactory(from_product=cloud, to_product=cloud, kind=RenewalPath.Kind.SAME)
    if upgrade:
        total = priced_product(
            line=Product.Line.TOTAL_SECURITY,
            edition=Product.Edition.STANDARD,
            name_ja="まもり トータルセキュリティ スタンダード",
            name_en="Mamori Total Security Standard",
        )
        RenewalPathFactory(
            from_product=cloud, to_product=total, kind=RenewalPath.Kind.UPGRADE, card_only=True
        )
    expires_on = timezone.localdate() + dt.timedelta(days=days_left)
    return LicenseFactory(owner=owner, product=cloud, expires_on=expires_on, **license_kwargs)


def same_path(license) -> RenewalPath:
    return RenewalPath.objects.get(from_product=license.product, kind=RenewalPath.Kind.SAME)
