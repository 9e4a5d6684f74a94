"""Automatic renewal's failures (issue 11 point 4) on localstripe: a card declined at charge is
tried again on the schedule until the expiry date, each attempt recorded and mailed, then the
"not renewed" mail; a card whose bank wants 3-D Secure gets a mail with a link to pay in the
browser."""

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from licenses.models import LicenseEvent
from orders.payments.testing import authenticate_3d_secure
from orders.renewals.models import RenewalAttempt
from tests.helpers.renewals import (
    automatic_orders,
    mail_keys,
    opted_in_at_checkout,
    renewal_of,
    run_auto_renewals,
    switch_on_from_license_page,
)
from tests.helpers.stripe import DECLINED_ON_CHARGE, THREE_DS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def with_renewal_card(customer, client, capture, number):
    """A license opted in at checkout (paid with a good card), whose automatic-renewal card the
    customer then changed on the license page to ``number``."""
    license, _checkout = opted_in_at_checkout(customer, capture)
    client.force_login(customer)
    response = switch_on_from_license_page(client, license, number)
    assert response.status_code == 302
    assert (
        renewal_of(license).card.stripe_payment_method
        != _checkout.payments.get().stripe_payment_method
    )
    return license


def test_a_declined_card_is_retried_on_the_schedule_then_the_not_renewed_mail(
    customer, client, django_capture_on_commit_callbacks, mailoutbox
):
    """4000000000000341 is set up fine and declined when charged: opted in at checkout with a
    good card, the customer changed the card on the license page to this one."""
    license = with_renewal_card(
        customer, client, django_capture_on_commit_callbacks, DECLINED_ON_CHARGE
    )
    expiry = license.expires_on
    assert settings.AUTO_RENEW_RETRY_DAYS == [7, 3, 0]

    for days_before in range(7, -2, -1):  # every day from the first try to after the expiry
        run_auto_renewals(
            expiry - dt.timedelta(days=days_before), django_capture_on_commit_callbacks
        )

    order = automatic_orders(license).get()
    attempts = list(RenewalAttempt.objects.filter(order=order).order_by("created_at"))
    assert [a.slot for a in attempts] == [7, 3, 0]
    assert [a.run_on for a in attempts] == [expiry - dt.timedelta(days=d) for d in (7, 3, 0)]
    assert {a.outcome for a in attempts} == {"declined"}
    assert order.payments.count() == 3
    assert order.status == "payment_failed"
    license.refresh_from_db()
    assert license.expires_on == expiry  # this period is not renewed
    assert license.auto_renew  # but automatic renewal stays on for the next one
    assert mail_keys(order) == [
        "auto_renewal_declined:3",
        "auto_renewal_declined:7",
        "auto_renewal_not_renewed",
    ]
    not_renewed = [m for m in mailoutbox if "自動更新されませんでした" in m.subject]
    assert len(not_renewed) == 1
    body = not_renewed[0].body
    assert reverse("orders:choose", args=[license.serial]) in body  # how to renew by hand
    declined = [m for m in mailoutbox if "決済できませんでした" in m.subject]
    assert len(declined) == 2
    assert (expiry - dt.timedelta(days=3)).isoformat() in declined[0].body  # the next try


def test_a_card_that_wants_3d_secure_gets_a_link_to_pay_in_the_browser(
    customer, client, django_capture_on_commit_callbacks, mailoutbox
):
    """An off-session charge of 4000002760003184 fails with 402 ``authentication_required`` (real
    Stripe's answer; localstripe's ``requires_action`` is corrected by the shim). The mail's
    link brings the customer back on session: the checkout's details step with the saved card,
    then "Confirm order" and the 3-D Secure challenge in the browser."""
    license = with_renewal_card(customer, client, django_capture_on_commit_callbacks, THREE_DS)
    expiry = license.expires_on

    run_auto_renewals(expiry - dt.timedelta(days=7), django_capture_on_commit_callbacks)

    order = automatic_orders(license).get()
    attempt = RenewalAttempt.objects.get(order=order)
    assert attempt.outcome == "authentication_required"
    assert attempt.failure_code == "authentication_required"
    assert order.status == "payment_failed"
    assert mail_keys(order) == ["auto_renewal_authenticate"]
    pay_url = reverse("renewals:pay", args=[order.number])
    assert sum(pay_url in m.body for m in mailoutbox) == 1

    # No further off-session tries while the customer is asked to authenticate.
    run_auto_renewals(expiry - dt.timedelta(days=3), django_capture_on_commit_callbacks)
    assert order.payments.count() == 1

    response = client.get(pay_url)
    assert response.status_code == 302
    assert response.url == reverse("orders:details", args=[order.number])
    card = renewal_of(license).card
    response = client.post(
        response.url, {"email": customer.email, "card": str(card.pk), "agree": "on"}
    )
    assert response.url == reverse("orders:confirm", args=[order.number])
    response = client.post(response.url)
    assert response.url == reverse("orders:authenticate", args=[order.number])
    page = client.get(response.url)
    authenticate_3d_secure(page.context["client_secret"], success=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url)
    order.refresh_from_db()
    license.refresh_from_db()
    assert order.status == "fulfilled"
    assert license.expires_on == expiry.replace(year=expiry.year + 1)
    assert LicenseEvent.objects.filter(order=order).count() == 1


def test_the_pay_link_is_the_owners_only(
    customer, other_customer, client, django_capture_on_commit_callbacks
):
    license = with_renewal_card(customer, client, django_capture_on_commit_callbacks, THREE_DS)
    run_auto_renewals(license.expires_on - dt.timedelta(days=7), django_capture_on_commit_callbacks)
    order = automatic_orders(license).get()
    client.force_login(other_customer)
    assert client.get(reverse("renewals:pay", args=[order.number])).status_code == 404
