"""Orders for tests: a small catalog, a renewable license, an order at any step."""

import datetime as dt

from django.utils import timezone

from licenses.models import PriceKind, Product, RenewalPath
from orders import services
from orders.payments.testing import confirm_card_setup
from tests.factories import (
    LicenseFactory,
    OrderFactory,
    PaymentFactory,
    PriceFactory,
    ProductFactory,
    RenewalPathFactory,
)

from .stripe import OK

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


def add_card(order, number=OK, *, email=None, keep_card=False, authenticate=True):
    """What the details page does with a card number: the page confirms the order's SetupIntent
    at Stripe (stripe.js; 3-D Secure completed, or failed with ``authenticate=False``) and posts
    only the ``pm_…`` id, which ``enter_details`` reads back from Stripe."""
    client_secret = services.prepare_card_setup(order=order)
    setup = confirm_card_setup(client_secret, number, authenticate=authenticate)
    return services.enter_details(
        order=order,
        email=email or order.contact_email or "guest@example.com",
        payment_method=setup["payment_method"],
        keep_card=keep_card,
    )


def order_for(customer, **license_kwargs):
    """A draft order renewing a new license of ``customer`` for a year."""
    license = renewable_license(owner=customer, **license_kwargs)
    return services.start_order(
        license=license, path_id=same_path(license).pk, term_years=1, customer=customer
    )


def order_with_card(customer, number=OK, *, keep_card=False, **license_kwargs):
    """An order at the confirm step: a renewal of a new license, a localstripe card set up."""
    order = order_for(customer, **license_kwargs)
    add_card(order, number, email=customer.email, keep_card=keep_card)
    order.refresh_from_db()
    return order


def order_paid_at_stripe(customer, capture, **license_kwargs):
    """An order paid through localstripe, its on-commit tasks run in-process (``capture``:
    pytest-django's ``django_capture_on_commit_callbacks``)."""
    order = order_with_card(customer, **license_kwargs)
    with capture(execute=True):
        services.confirm_order(order=order)
    order.refresh_from_db()
    return order


def paid_order(**fields):
    """A paid order of ¥5,980 (tax ¥543) with its successful card payment, no Stripe involved."""
    fields.setdefault("status", "paid")
    fields.setdefault("paid_at", timezone.now())
    order = OrderFactory(**fields)
    PaymentFactory(order=order, status="succeeded")
    return order
