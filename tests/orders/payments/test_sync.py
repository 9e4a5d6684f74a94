"""The one "sync payment" service across attempts and 3-D Secure (DESIGN 5.4, T6)."""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from licenses.models import LicenseEvent
from orders import services
from orders.models import Order, SentMail
from orders.payments import gateway
from orders.payments.reconciliation import reconcile_payments
from orders.payments.sync import apply_intent, sync_payment
from orders.payments.testing import authenticate_3d_secure
from tests.helpers.orders import add_card, order_with_card
from tests.helpers.stripe import DECLINED_ON_CHARGE, THREE_DS, post_event, recorded_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_late_failure_of_an_old_attempt_leaves_the_current_attempt_alone(customer):
    order = order_with_card(customer, DECLINED_ON_CHARGE)
    first = services.confirm_order(order=order).payment
    add_card(order, THREE_DS)
    second = services.confirm_order(order=order)
    assert second.order.status == "requires_action"
    # The old attempt's failure report arrives only now (a late or re-delivered webhook).
    sync_payment(payment=first)
    order.refresh_from_db()
    assert order.status == "requires_action"
    authenticate_3d_secure(second.client_secret, success=True)
    sync_payment(payment=second.payment)
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


def test_authenticate_page_with_an_unknown_payment_intent_says_so_and_offers_no_challenge(
    client, customer
):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    result.payment.stripe_payment_intent = "pi_unknown_to_stripe"
    result.payment.save()
    client.force_login(customer)
    response = client.get(reverse("orders:authenticate", args=[order.number]))
    assert response.status_code == 200
    assert response.context["client_secret"] == ""  # no 3-D Secure box for a payment Stripe lacks
    assert "決済を処理できませんでした" in response.text  # the gateway's message, in Japanese
    assert 'id="authenticate-js"' not in response.text


def test_issue10_4_a_charge_of_another_amount_is_not_paid_but_flagged(
    client, customer, django_capture_on_commit_callbacks
):
    """An unrecorded PaymentIntent adopted by its metadata, for less than the order's price."""
    order = order_with_card(customer)
    payment = order.payments.get()
    intent = gateway.create_and_confirm_payment_intent(
        amount=order.amount - 1000,
        customer_id=payment.stripe_customer_id,
        payment_method=payment.stripe_payment_method,
        order_number=order.number,
        idempotency_key=payment.idempotency_key,
    )
    payload = recorded_event(
        "payment_intent.succeeded",
        id=intent.id,
        payment_method=payment.stripe_payment_method,
        metadata={"order": order.number},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, payload)
    order.refresh_from_db()
    assert order.status == "awaiting_payment" and order.paid_at is None
    assert order.attention == "amount_mismatch" and "3790 jpy" in order.attention_note
    assert order.payments.get().stripe_payment_intent == intent.id
    assert not LicenseEvent.objects.filter(order=order).exists()  # nothing extended
    assert not SentMail.objects.filter(order=order).exists()  # no completion mail
    # The sweep leaves it to the operator instead of re-reading it every few minutes.
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert reconcile_payments().orders_synced == 0


def test_issue10_4_a_charge_in_another_currency_is_not_paid_but_flagged(customer):
    order = order_with_card(customer)
    payment = order.payments.get()
    in_dollars = gateway.IntentState(
        id="pi_usd",
        status="succeeded",
        amount=order.amount,
        currency="usd",
        client_secret="",
        customer_id=payment.stripe_customer_id,
        payment_method=payment.stripe_payment_method,
        order_number=order.number,
        charge_id="ch_usd",
        failure_code=None,
        failure_message=None,
        requires_action=False,
    )
    with transaction.atomic():
        apply_intent(order=Order.objects.select_for_update().get(pk=order.pk), payment=payment,
                     intent=in_dollars)  # fmt: skip
    order.refresh_from_db()
    assert order.status == "details_entered" and order.attention == "amount_mismatch"
    assert "4790 usd" in order.attention_note
