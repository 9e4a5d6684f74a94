"""Reads for pages and admin: each returns a queryset with the joins its page needs (no N+1)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import License, LicenseEvent, Price, Product


def customer_licenses(*, user) -> QuerySet[License]:
    return (
        License.objects.filter(owner=user)
        .select_related("product")
        .order_by("expires_on", "serial")
    )


def customer_license(*, user, serial: str) -> License:
    """The signed-in customer's license, or 404 (the same answer for someone else's serial)."""
    license = (
        License.objects.select_related("product").filter(owner=user, serial=serial.upper()).first()
    )
    if license is None:
        raise Http404
    return license


def license_history(*, license: License) -> QuerySet[LicenseEvent]:
    return license.events.select_related("old_product", "new_product", "activation_code", "actor")


def current_prices(*, products: list[Product], kind: str, today: dt.date | None = None) -> dict:
    """``{(product_id, term_years): Price}`` valid today, the latest window winning."""
    today = today or timezone.localdate()
    rows = (
        Price.objects.filter(product__in=products, kind=kind, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("product_id", "term_years", "valid_from")
    )
    return {(price.product_id, price.term_years): price for price in rows}
