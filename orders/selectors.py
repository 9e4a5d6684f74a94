"""What a license may be renewed as, with prices and the expiry each choice gives (T1, T3, K2, K10)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.dates import add_years
from licenses.models import License, LicenseStatus, Price, RenewalPath
from licenses.selectors import current_prices

from .models import Order

TAX_RATE = 10


def consumption_tax_in(amount: int, rate: int = TAX_RATE) -> int:
    """J1: the tax contained in a tax-inclusive amount, rounded down to the yen."""
    return amount * rate // (100 + rate)


def new_expiry(*, expires_on: dt.date, term_years: int, paid_on: dt.date) -> dt.date:
    """K10: from the current expiry while still valid, from the payment day once expired."""
    start = expires_on if paid_on <= expires_on else paid_on
    return add_years(start, term_years)


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
        return consumption_tax_in(self.price.amount)

    @property
    def per_year(self) -> int:
        return self.price.per_year


@dataclass
class RenewalOption:
    path: RenewalPath
    terms: list[TermOption] = field(default_factory=list)
    blocked_reason: str = ""

    @property
    def product(self):
        return self.path.to_product

    @property
    def is_upgrade(self) -> bool:
        return self.path.is_upgrade

    @property
    def cheapest_per_year(self) -> int | None:
        return min((term.per_year for term in self.terms), default=None)


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
        for term in (1, 2, 3):
            price = prices[path.price_kind].get((path.to_product_id, term))
            if price is not None:
                option.terms.append(
                    TermOption(
                        term_years=term,
                        price=price,
                        new_expires_on=new_expiry(
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


def customer_orders(*, user) -> QuerySet[Order]:
    return (
        Order.objects.filter(customer=user)
        .exclude(status=Order.Status.DRAFT)
        .select_related("product", "license")
        .order_by("-created_at")
    )


def order_for_request(*, request, number: str) -> Order:
    """The order if it is the signed-in customer's or this session's guest order, else 404."""
    order = (
        Order.objects.select_related("license", "product", "from_product", "customer", "price")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404
    user = request.user
    if order.customer_id and user.is_authenticated and order.customer_id == user.pk:
        return order
    if order.customer_id is None and number in request.session.get("guest_orders", []):
        return order
    raise Http404


def latest_payment(*, order: Order):
    return order.payments.order_by("-attempt").first()


_ACCESS_SALT = "orders.guest-access"
_ACCESS_MAX_AGE = 60 * 60 * 24 * 30


def guest_access_token(order: Order) -> str:
    """A signed token for a guest's mail links: it opens that one order for 30 days."""
    return signing.dumps(order.number, salt=_ACCESS_SALT)


def guest_access_number(token: str) -> str | None:
    try:
        return signing.loads(token, salt=_ACCESS_SALT, max_age=_ACCESS_MAX_AGE)
    except signing.BadSignature:
        return None
