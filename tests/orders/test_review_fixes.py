"""Payments across several attempts, abandoned 3-D Secure, unrecorded charges, lost mails and
refunds after a lapse (DESIGN 5, 6; T6, K10)."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from licenses.models import LicenseEvent
from orders import clearing, services
from orders.models import Order, SentMail
from orders.payments import gateway
from tests.orders.stripe_events import event, post
from tests.orders.test_checkout_services import (
    DECLINED_ON_CHARGE,
    OK,
    THREE_DS,
    order_with_card,
)
from tests.plugins.localstripe import authenticate_3d_secure, card_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_late_failure_of_an_old_attempt_leaves_the_current_attempt_alone(customer):
    order = order_with_card(customer, DECLINED_ON_CHARGE)
    first = services.confirm_order(order=order).payment
    services.enter_details(order=order, email=customer.email, card_token=card_token(THREE_DS))
    second = services.confirm_order(order=order)
    assert second.order.status == "requires_action"
    # The old attempt's failure report arrives only now (a late or re-delivered webhook).
    services.sync_payment(payment=first)
    order.refresh_from_db()
    assert order.status == "requires_action"
    authenticate_3d_secure(second.client_secret, success=True)
    services.sync_payment(payment=second.payment)
    order.refresh_from_db()
    assert order.status == "paid"


def test_T6_use_another_card_cancels_the_challenge_and_returns_to_details(client, customer):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    client.force_login(customer)
    response = client.post(
        reverse("orders:authenticate", args=[order.number]), {"action": "another_card"}
    )
    assert response["Location"] == reverse("orders:details", args=[order.number])
    order.refresh_from_db()
    assert order.status == "payment_failed"
    intent = gateway.retrieve_payment_intent(payment_intent_id=result.payment.stripe_payment_intent)
    assert intent.status == "canceled"  # it can no longer succeed beside the next card


def test_authenticate_page_with_an_unknown_payment_intent_is_no_500(client, customer):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    result.payment.stripe_payment_intent = "pi_unknown_to_stripe"
    result.payment.save()
    client.force_login(customer)
    response = client.get(reverse("orders:authenticate", args=[order.number]))
    assert response.status_code == 200


def test_a_charge_whose_id_was_never_recorded_is_adopted_from_its_webhook(
    client, customer, django_capture_on_commit_callbacks
):
    """confirm_order's transaction rolled back after Stripe created the PaymentIntent."""
    order = order_with_card(customer, OK)
    payment = order.payments.get()
    intent = gateway.create_and_confirm_payment_intent(
        amount=order.amount,
        customer_id=payment.stripe_customer_id,
        payment_method=payment.stripe_payment_method,
        order_number=order.number,
        idempotency_key=payment.idempotency_key,
    )
    payload = event(
        "evt_orphan",
        "payment_intent.succeeded",
        {"id": intent.id, "payment_method": payment.stripe_payment_method,
         "metadata": {"order": order.number}},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert order.payments.get().stripe_payment_intent == intent.id


def test_reconciliation_sends_mails_whose_task_was_lost(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, OK)
    services.confirm_order(order=order)  # tasks dropped, as with the broker down
    services.extend_license(order=Order.objects.get(pk=order.pk))
    assert not SentMail.objects.exists()
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Order.objects.filter(pk=order.pk).update(paid_at=long_ago, fulfilled_at=long_ago)
    report = clearing.reconcile_payments()
    assert report.mails_requeued == 2
    assert set(SentMail.objects.values_list("key", flat=True)) == {
        "order_completed",
        "license_extended",
    }
    assert len(mail.outbox) == 2
    assert clearing.reconcile_payments().mails_requeued == 0


def test_refund_after_a_renewal_from_the_payment_day_restores_the_old_expiry(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, OK, days_left=-100)
    before = order.license.expires_on
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        clearing.refund_order(order=Order.objects.get(pk=order.pk))
    order.license.refresh_from_db()
    assert order.license.expires_on == before  # K10 started it from the payment day
    assert LicenseEvent.objects.filter(order=order, kind="refunded").count() == 1
