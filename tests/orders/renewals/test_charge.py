"""Automatic renewal's charge (DESIGN 6a, issue 11 point 3) on localstripe: the sweep for a day
(``manage.py run_auto_renewals --date``) charges the saved card off session once per license
and expiry date, and the same fulfilment extends the license once."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from licenses.models import LicenseEvent
from orders.legal import AUTO_RENEWAL_TERMS_VERSION
from orders.models import Order, Payment
from orders.payments import gateway
from orders.renewals import services
from orders.renewals.models import AutoRenewal, RenewalAttempt
from tests.helpers.renewals import (
    automatic_orders,
    charge_day,
    mail_keys,
    opted_in_at_checkout,
    renewal_of,
    run_auto_renewals,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_opt_in_at_checkout_stores_the_card_the_consent_time_and_the_terms_version(
    customer, django_capture_on_commit_callbacks
):
    license, order = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)

    assert order.status == "fulfilled" and order.auto_renew
    assert license.auto_renew
    renewal = renewal_of(license)
    assert renewal.card.stripe_payment_method == order.payments.get().stripe_payment_method
    assert renewal.consented_at == order.terms_accepted_at
    assert renewal.terms_version == order.terms_versions["auto_renewal"]
    assert renewal.terms_version == AUTO_RENEWAL_TERMS_VERSION
    assert renewal.term_years == order.term_years
    assert renewal.source == AutoRenewal.Source.CHECKOUT


def test_run_auto_renewals_charges_off_session_once_and_extends_by_the_term_with_one_mail(
    customer, django_capture_on_commit_callbacks
):
    license, checkout_order = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    expiry = license.expires_on

    run_auto_renewals(charge_day(license), django_capture_on_commit_callbacks)

    order = automatic_orders(license).get()
    assert order.status == "fulfilled"
    assert order.renews_expiry == expiry
    assert order.amount == checkout_order.amount and order.tax == checkout_order.tax
    payment = order.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.stripe_payment_method == renewal_of(license).card.stripe_payment_method
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    assert intent.succeeded and intent.amount == order.amount
    assert intent.order_number == order.number
    license.refresh_from_db()
    assert license.expires_on == expiry.replace(year=expiry.year + 1)
    assert LicenseEvent.objects.filter(order=order).count() == 1
    assert mail_keys(order) == ["license_extended"]  # one mail
    attempt = RenewalAttempt.objects.get(order=order)
    assert attempt.outcome == "succeeded" and attempt.slot == 7

    # Again for the same day and the retry days of the same expiry: nothing more.
    for days_before in (7, 5, 3, 0):
        run_auto_renewals(
            expiry - dt.timedelta(days=days_before), django_capture_on_commit_callbacks
        )
    assert automatic_orders(license).count() == 1
    assert Payment.objects.filter(order__license=license, order__kind="automatic").count() == 1
    license.refresh_from_db()
    assert license.expires_on == expiry.replace(year=expiry.year + 1)


def test_the_database_allows_one_automatic_order_per_license_and_expiry_date(
    customer, django_capture_on_commit_callbacks
):
    license, _order = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    run_auto_renewals(charge_day(license), django_capture_on_commit_callbacks)
    order = Order.objects.get(license=license, kind="automatic")
    order.pk = None
    order.number = "R000000-DUPLICATE"
    with pytest.raises(IntegrityError), transaction.atomic():
        order.save()


def test_switched_off_nothing_is_charged_even_on_the_charge_day(
    customer, client, django_capture_on_commit_callbacks
):
    license, _order = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    services.switch_off(license=license)

    run_auto_renewals(charge_day(license), django_capture_on_commit_callbacks)

    assert not automatic_orders(license).exists()
    assert services.charge_license(license=license, on=charge_day(license)) == "switched off"
