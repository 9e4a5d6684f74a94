"""Automatic renewal for tests: a license opted in at checkout (through localstripe), the
sweep's day for a license, and the mails of an automatic order."""

import datetime as dt

from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from orders import services
from orders.models import Order, SentMail
from orders.payments.testing import confirm_card_setup
from orders.renewals.models import AutoRenewal

from .orders import order_for
from .stripe import OK


def opted_in_at_checkout(customer, capture, number=OK, **license_kwargs):
    """A license of ``customer`` renewed at checkout with "renew automatically with this card"
    ticked, paid with ``number`` (set up without 3-D Secure trouble), its tasks run in-process:
    automatic renewal is on with that card. Returns (license, checkout order)."""
    order = order_for(customer, **license_kwargs)
    client_secret = services.prepare_card_setup(order=order)
    setup = confirm_card_setup(client_secret, number)
    services.enter_details(
        order=order, email=customer.email, payment_method=setup["payment_method"], auto_renew=True
    )
    with capture(execute=True):
        services.confirm_order(order=Order.objects.get(pk=order.pk))
    order.refresh_from_db()
    license = order.license
    license.refresh_from_db()
    return license, order


def charge_day(license, days_before: int | None = None) -> dt.date:
    days = settings.AUTO_RENEW_DAYS_BEFORE if days_before is None else days_before
    return license.expires_on - dt.timedelta(days=days)


def run_auto_renewals(on: dt.date, capture=None) -> None:
    """``manage.py run_auto_renewals --date`` (with ``capture``, its tasks run in-process)."""
    if capture is None:
        call_command("run_auto_renewals", "--date", on.isoformat())
        return
    with capture(execute=True):
        call_command("run_auto_renewals", "--date", on.isoformat())


def automatic_orders(license):
    return Order.objects.filter(license=license, kind=Order.Kind.AUTOMATIC)


def mail_keys(order) -> list[str]:
    return sorted(SentMail.objects.filter(order=order).values_list("key", flat=True))


def renewal_of(license) -> AutoRenewal:
    return AutoRenewal.objects.select_related("card").get(license=license)


def switch_on_from_license_page(client, license, number=OK, *, term: int = 1, agree: bool = True):
    """What the license page's "Switch automatic renewal on" does with a new card: the page sets
    up the card at Stripe (stripe.js confirms the SetupIntent) and posts only the ``pm_…``."""
    url = reverse("renewals:switch_on", args=[license.serial])
    page = client.get(url)
    setup = confirm_card_setup(page.context["client_secret"], number)
    form = {"term": term, "card": "new", "payment_method": setup["payment_method"]}
    if agree:
        form["agree"] = "on"
    return client.post(url, form)
