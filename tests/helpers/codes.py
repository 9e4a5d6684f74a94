"""Licenses, installations and activation codes for the K3–K8 tests (web, API, job, browser)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from licenses.models import ActivationCode, Device, License, Platform, Product, RenewalPath
from tests.factories import (
    ActivationCodeFactory,
    DeviceFactory,
    LicenseFactory,
    ProductFactory,
    RenewalPathFactory,
)

L, E = Product.Line, Product.Edition
DEVICE_NAMES = {
    Platform.WINDOWS: "リビングのPC",
    Platform.MAC: "MacBook",
    Platform.ANDROID: "Android スマホ",
    Platform.IOS: "iPhone",
}


def multi_platform(edition: str = E.THREE_DEVICE) -> Product:
    """The current multi-platform edition (generation 2013), as in the demo catalog."""
    names = {
        E.THREE_DEVICE: ("3台版", "3-device edition"),
        E.PRIVATE: ("プライベート版", "private edition"),
    }
    name_ja, name_en = names[edition]
    product, _created = Product.objects.get_or_create(
        code=f"mp-2013-{edition}",
        defaults={
            "name_ja": f"まもり マルチプラットフォーム セキュリティ 2013 {name_ja}",
            "name_en": f"Mamori Multi-platform Security 2013, {name_en}",
            "line": L.MULTI_PLATFORM,
            "edition": edition,
            "generation": 2013,
            "seat_limit": None if edition == E.PRIVATE else 3,
            "platform_scope": Product.PlatformScope.MULTI,
        },
    )
    return product


def internet_security_2011() -> Product:
    """The legacy 2011 generation (Windows), not sold, renewed as the multi-platform edition."""
    product, created = Product.objects.get_or_create(
        code="is-2011",
        defaults={
            "name_ja": "まもり インターネット セキュリティ 2011",
            "name_en": "Mamori Internet Security 2011",
            "line": L.INTERNET_SECURITY,
            "edition": E.THREE_DEVICE,
            "generation": 2011,
            "seat_limit": 3,
            "platform_scope": Product.PlatformScope.WINDOWS,
            "sellable": False,
        },
    )
    if created:
        RenewalPathFactory(
            from_product=product, to_product=multi_platform(), kind=RenewalPath.Kind.VERSION_UP
        )
    return product


def cloud() -> Product:
    return ProductFactory(code="cloud-x", line=L.CLOUD, edition=E.CLOUD, generation=2026)


def expiring(days_left: int) -> dt.date:
    """The expiry date of a license that shows ``days_left`` days left today (counting today)."""
    return timezone.localdate() + dt.timedelta(days=days_left - 1)


def license_with(
    *,
    days_left: int,
    platform: str = Platform.WINDOWS,
    product: Product | None = None,
    generation: int | None = None,
    owner=None,
    **license_fields,
) -> tuple[License, Device]:
    """A license with ``days_left`` days left and one installation on ``platform``."""
    product = product or multi_platform()
    expires_on = expiring(days_left)
    fields = {"product": product, "expires_on": expires_on, **license_fields}
    if owner is not None:
        fields["owner"] = owner
    license = LicenseFactory(starts_on=expires_on - dt.timedelta(days=400), **fields)
    device = DeviceFactory(
        license=license,
        name=DEVICE_NAMES[platform],
        platform=platform,
        program_generation=generation or product.generation,
        program_version="11.0.2.556"
        if (generation or product.generation) <= 2011
        else "14.0.0.4651",
    )
    return license, device


def new_code(product: Product | None = None, term_years: int = 1) -> ActivationCode:
    """An issued, unredeemed code (a newly bought package or a renewal bought elsewhere)."""
    return ActivationCodeFactory(product=product or multi_platform(), term_years=term_years)
