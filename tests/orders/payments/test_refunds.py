"""Refunds (DESIGN 5.8, 6): the extension is taken back once, by a new ledger row."""

import pytest
from django.core import mail

from licenses.dates import add_years
from licenses.models import LicenseEvent
from orders import services
from orders.models import Order
from orders.payments.refunds import RefundError, refund_order
from tests.helpers.orders import order_paid_at_stripe, order_with_card
from tests.helpers.stripe import OK, event, post_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_refund_reverses_the_extension_with_a_new_ledger_row_and_a_mail(
    customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    order.license.refresh_from_db()
    extended = order.license.expires_on
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order)
        refund_order(order=order)  # twice: one refund, one reversal
    order.refresh_from_db()
    order.license.refresh_from_db()
    assert order.status == "refunded"
    assert order.license.expires_on == add_years(extended, -1)
    reversals = LicenseEvent.objects.filter(order=order, kind="refunded")
    assert reversals.count() == 1
    assert LicenseEvent.objects.filter(order=order, kind="renewed").count() == 1  # history kept
    assert len(mail.outbox) == 1 and "返金" in mail.outbox[0].subject


def test_refund_webhook_after_the_api_refund_finds_it_done(
    client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    refund_order(order=order)
    intent_id = order.payments.get().stripe_payment_intent
    with django_capture_on_commit_callbacks(execute=True):
        post_event(
            client,
            event("evt_refund", "charge.refunded", {"id": "ch_x", "payment_intent": intent_id}),
        )
    assert LicenseEvent.objects.filter(order=order, kind="refunded").count() == 1


def test_refund_of_an_unpaid_order_is_refused(customer):
    order = order_with_card(customer, OK)
    with pytest.raises(RefundError):
        refund_order(order=order)


def test_refund_after_a_renewal_from_the_payment_day_restores_the_old_expiry(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, OK, days_left=-100)
    before = order.license.expires_on
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=Order.objects.get(pk=order.pk))
    order.license.refresh_from_db()
    assert order.license.expires_on == before  # K10 started it from the payment day
    assert LicenseEvent.objects.filter(order=order, kind="refunded").count() == 1
