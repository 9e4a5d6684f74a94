"""Automatic renewal's charge (DESIGN 6a, issue 11 point 3) on localstripe: the sweep for a day
(``manage.py run_auto_renewals --date``) charges the saved card off session once per license
and expiry date, and the same fulfilment extends the license once."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from licenses.models import LicenseEvent
from orders.legal import AUTO_RENEWAL_TERMS_VERSION
from orders.models import Order, Payment
from orders.payments import gateway
from orders.payments.reconciliation import reconcile_payments
from orders.renewals import services
from orders.renewals.models import AutoRenewal, RenewalAttempt
from orders.services import release_claim
from tests.helpers.renewals import (
    automatic_orders,
    charge_day,
    mail_keys,
    opted_in_at_checkout,
    renewal_of,
    run_auto_renewals,
    switch_on_from_license_page,
)
from tests.helpers.stripe import DECLINED_ON_CHARGE
from tests.helpers.threads import run_together

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


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_two_beats_and_a_retried_task_charge_once(
    customer, django_capture_on_commit_callbacks
):
    """Three at once (threads, each with its own database connection; tasks run in-process
    when their transaction commits): two sweeps of the same day and the charge task itself."""
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    expiry = license.expires_on
    day = charge_day(license)

    _results, errors = run_together(
        lambda: call_command("run_auto_renewals", "--date", day.isoformat()),
        lambda: call_command("run_auto_renewals", "--date", day.isoformat()),
        lambda: services.charge_license(license=license, on=day),
    )

    assert errors == []
    order = automatic_orders(license).get()
    assert order.payments.count() == 1
    assert RenewalAttempt.objects.filter(order=order).count() == 1
    assert LicenseEvent.objects.filter(order=order).count() == 1
    license.refresh_from_db()
    assert license.expires_on == expiry.replace(year=expiry.year + 1)


def test_reconciliation_leaves_an_automatic_order_between_retries_alone(
    customer, client, django_capture_on_commit_callbacks, settings
):
    """A declined automatic order waits days for its next try: not a stale checkout to cancel;
    its claim released by the sweep (the process died before Stripe answered) fails the
    attempt, so the next slot tries again."""
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    client.force_login(customer)
    switch_on_from_license_page(client, license, DECLINED_ON_CHARGE)
    run_auto_renewals(charge_day(license), django_capture_on_commit_callbacks)
    order = automatic_orders(license).get()
    assert order.status == "payment_failed"
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))

    reconcile_payments()

    order.refresh_from_db()
    assert order.status == "payment_failed"

    # A claim whose process died before Stripe was called.
    Order.objects.filter(pk=order.pk).update(status="awaiting_payment")
    Payment.objects.create(
        order=order, attempt=9, amount=order.amount, stripe_customer_id="cus_x",
        stripe_payment_method="pm_x", status="processing",
    )  # fmt: skip
    assert release_claim(order=order, any_age=True)
    order.refresh_from_db()
    assert order.status == "payment_failed"
    assert order.payments.get(attempt=9).status == "failed"


def test_the_off_session_charge_is_in_stripes_contract(
    stripe_contract, customer, django_capture_on_commit_callbacks
):
    """DESIGN 5.1 for issue 11: the automatic charge is a PaymentIntent created with the
    Customer, the saved PaymentMethod, ``off_session=true`` and ``confirm=true`` (no
    ``automatic_payment_methods``: nothing is confirmed in a page), an Idempotency-Key of its
    own, at the pinned version; the recorder checks the params against the SDK's types."""
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    stripe_contract.requests.clear()

    run_auto_renewals(charge_day(license), django_capture_on_commit_callbacks)

    order = automatic_orders(license).get()
    payment = order.payments.get()
    created = [r for r in stripe_contract.requests if r.endpoint == "PaymentIntentCreateParams"]
    assert len(created) == 1
    assert dict(created[0].params) == {
        "amount": str(order.amount),
        "currency": "jpy",
        "customer": renewal_of(license).card.customer.stripe_id,
        "payment_method": payment.stripe_payment_method,
        "off_session": "true",
        "confirm": "true",
        "metadata[order]": order.number,
        "metadata[kind]": "automatic",
    }
    assert stripe_contract.problems() == []
