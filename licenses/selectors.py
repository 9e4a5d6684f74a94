"""Reads for pages and admin: each returns a queryset with the joins its page needs (no N+1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .dates import extended_expiry
from .models import (
    TERMS,
    CustomerPreferences,
    License,
    LicenseEvent,
    LicenseStatus,
    Price,
    Product,
    RenewalPath,
    ReserveLicense,
)


def customer_licenses(*, user) -> QuerySet[License]:
    return (
        License.objects.filter(owner=user)
        .select_related("product")
        .order_by("expires_on", "serial")
    )


def license_rows_version(*, licenses: list[License], today: dt.date) -> str:
    """What the rows of ``/licenses/`` show depends on, for their cached fragment: today's date
    (status, days left), and per license its ``updated_at`` (every change of expiry, product,
    revocation or automatic renewal saves it) and its product's name. The language is the
    template's to add."""
    return (
        today.isoformat()
        + "|"
        + "|".join(
            f"{license.pk}.{license.updated_at.timestamp()}.{license.product.name}"
            for license in licenses
        )
    )


def customer_license(*, user, serial: str) -> License:
    """The signed-in customer's license, or 404 (the same answer for someone else's serial)."""
    license = (
        License.objects.select_related("product").filter(owner=user, serial=serial.upper()).first()
    )
    if license is None:
        raise Http404
    return license


def customer_preferences(*, user) -> CustomerPreferences:
    """The customer's preferences, or the defaults (unsaved) when they never changed any."""
    preferences = CustomerPreferences.objects.filter(user=user).first()
    return preferences or CustomerPreferences(user=user)


def license_history(*, license: License) -> QuerySet[LicenseEvent]:
    return license.events.select_related("old_product", "new_product", "activation_code", "actor")


def waiting_reserve(*, license: License) -> ReserveLicense | None:
    """K7: the code waiting to take over at expiry (at most one per license)."""
    return (
        license.reserves.filter(state=ReserveLicense.State.WAITING)
        .select_related("activation_code__product", "device")
        .first()
    )


def current_prices(*, products: list[Product], kind: str, today: dt.date | None = None) -> dict:
    """``{(product_id, term_years): Price}`` valid today, the latest window winning."""
    today = today or timezone.localdate()
    rows = (
        Price.objects.filter(product__in=products, kind=kind, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("product_id", "term_years", "valid_from")
    )
    return {(price.product_id, price.term_years): price for price in rows}


# --- What a license may be renewed as (T1, T2, T3, K1, K2, K5, K10) ---------------------------------


@dataclass(frozen=True)
class TermOption:
    term_years: int
    price: Price
    new_expires_on: dt.date

    @property
    def amount(self) -> int:
        return self.price.amount

    @property
    def tax(self) -> int:
        return self.price.tax

    @property
    def per_year(self) -> int:
        return self.price.per_year


@dataclass
class RenewalOption:
    path: RenewalPath
    terms: list[TermOption] = field(default_factory=list)
    blocked_reason: str = ""

    @property
    def product(self) -> Product:
        return self.path.to_product

    @property
    def is_upgrade(self) -> bool:
        return self.path.is_upgrade

    def term(self, years: int) -> TermOption | None:
        return next((term for term in self.terms if term.term_years == years), None)


class RenewalRefused(Exception):
    """This license cannot be renewed from here; the message says why and where to go."""


def check_renewable(*, license: License, via_product: bool) -> None:
    """T2: a license lapsed more than a year cannot be renewed from the account."""
    status = license.status
    if status == LicenseStatus.REVOKED:
        raise RenewalRefused(_("This license has been revoked and cannot be renewed."))
    if status == LicenseStatus.LAPSED and not via_product:
        raise RenewalRefused(
            _(
                "This license expired more than a year ago, so it cannot be renewed from your "
                "account. Open the program installed on your device and click “Renew now” there."
            )
        )


def renewal_options(*, license: License, today: dt.date | None = None) -> list[RenewalOption]:
    """The rows of RenewalPath for the license's product, each with its priced terms.

    Two queries whatever the number of paths. A path whose product has no current price for a
    term simply does not offer that term.
    """
    today = today or timezone.localdate()
    paths = list(
        RenewalPath.objects.filter(from_product=license.product_id, to_product__sellable=True)
        .select_related("to_product")
        .order_by("sort_order", "id")
    )
    prices = {
        kind: current_prices(
            products=[p.to_product for p in paths if p.price_kind == kind], kind=kind, today=today
        )
        for kind in {p.price_kind for p in paths}
    }
    options = []
    for path in paths:
        option = RenewalOption(path=path)
        for term in TERMS:
            price = prices[path.price_kind].get((path.to_product_id, term))
            if price is not None:
                option.terms.append(
                    TermOption(
                        term_years=term,
                        price=price,
                        new_expires_on=extended_expiry(
                            expires_on=license.expires_on, term_years=term, paid_on=today
                        ),
                    )
                )
        if path.is_upgrade and license.auto_renew:
            option.blocked_reason = _(
                "Automatic renewal is on for this license. Cancel automatic renewal before "
                "upgrading."
            )
        if option.terms:
            options.append(option)
    return options


class TwinPackUsage(models.TextChoices):
    """K2: how the twin pack was used decides which edition we recommend instead."""

    OWN_DEVICES = "own_devices", _("On two devices of my own")
    SHARED = "shared", _("Shared by two people (one device each)")
    TWO_YEARS = "two_years", _("On one device, as two successive years")


@dataclass(frozen=True)
class TwinPackAdvice:
    path_id: int
    term: int
    product: Product
    reasons: tuple[str, ...]


def twin_pack_advice(*, options: list[RenewalOption], usage: str) -> TwinPackAdvice | None:
    """K2: the private edition for own devices (1 year) or two successive years on one device
    (3 years: all devices, no renewal chores); the 3-device edition for two people (3 years can
    be shared with family).

    Every claim about price is computed from the options shown beside the advice, never written:
    the 3-year private edition is cheaper per year than its own shorter terms, but another
    edition may well be cheaper still, and then the advice does not call it the cheapest.
    """
    edition = (
        Product.Edition.THREE_DEVICE if usage == TwinPackUsage.SHARED else Product.Edition.PRIVATE
    )
    years = 1 if usage == TwinPackUsage.OWN_DEVICES else 3
    option = next((o for o in options if o.product.edition == edition), None)
    chosen = option.term(years) if option is not None else None
    if chosen is None:
        return None
    reasons = [
        {
            TwinPackUsage.OWN_DEVICES: _(
                "The private edition covers every device you own with one activation code and "
                "one expiry date, even when you add devices later."
            ),
            TwinPackUsage.SHARED: _(
                "The 3-device edition covers both of you; with 3 years you can share it with "
                "your family."
            ),
            TwinPackUsage.TWO_YEARS: _(
                "The private edition covers all your devices, and a 3-year term spares you the "
                "renewals in between."
            ),
        }[usage]
    ]
    shorter = [term for term in option.terms if term.term_years < years]
    if shorter and all(chosen.per_year < term.per_year for term in shorter):
        reasons.append(
            _(
                "Per year it costs ¥%(per_year)s, less than a shorter term of the same edition "
                "(from ¥%(shorter)s a year)."
            )
            % {
                "per_year": f"{chosen.per_year:,}",
                "shorter": f"{min(term.per_year for term in shorter):,}",
            }
        )
    others = [term for o in options for term in o.terms if term is not chosen]
    if others and all(chosen.per_year < term.per_year for term in others):
        reasons.append(_("It is the lowest price per year of all the options below."))
    return TwinPackAdvice(
        path_id=option.path.pk,
        term=years,
        product=option.product,
        reasons=tuple(str(reason) for reason in reasons),
    )


@dataclass(frozen=True)
class RenewalChoice:
    """Everything the choice page (and a reminder mail) shows about renewing one license."""

    license: License
    options: list[RenewalOption]
    is_twin_pack: bool
    advice: TwinPackAdvice | None
    # One row per term, one cell per option: the K2 side-by-side comparison.
    compare_rows: list[tuple[int, list[tuple[RenewalOption, TermOption | None]]]]
    blocked_reason: str
    no_upgrade_found: bool
    outdated: bool


def renewal_choice(
    *, license: License, usage: str | None = None, today: dt.date | None = None
) -> RenewalChoice:
    """The choice page's data (T3, K1, K2, K5): options, comparison, advice, version-up box."""
    options = renewal_options(license=license, today=today)
    is_twin_pack = license.product.edition == Product.Edition.TWIN_PACK
    offers_upgrades = license.product.line in (Product.Line.CLOUD, Product.Line.TOTAL_SECURITY)
    return RenewalChoice(
        license=license,
        options=options,
        is_twin_pack=is_twin_pack,
        advice=twin_pack_advice(options=options, usage=usage) if is_twin_pack and usage else None,
        compare_rows=[(years, [(o, o.term(years)) for o in options]) for years in TERMS],
        blocked_reason=next((o.blocked_reason for o in options if o.blocked_reason), ""),
        no_upgrade_found=offers_upgrades and not any(o.is_upgrade for o in options),
        outdated=license.product.is_legacy
        or any(device.runs_old_version for device in license.devices.all()),
    )
