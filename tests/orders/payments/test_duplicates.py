"""Charges that carry our order number but are not the order's payment (issue 9, point 13)."""

import pytest
from django.urls import reverse

from licenses.models import LicenseEvent
from orders import services
from orders.models import Order, Refund
from orders.payments import gateway
from orders.payments.testing import authenticate_3d_secure
from tests.helpers.orders import add_card, order_paid_at_stripe, order_with_card
from tests.helpers.stripe import THREE_DS, post_event, recorded_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def charge_again(order, payment):
    """What a retry during a Stripe stall does on localstripe (it ignores Idempotency-Key)."""
    return gateway.create_and_confirm_payment_intent(
        amount=order.amount,
        customer_id=payment.stripe_customer_id,
        payment_method=payment.stripe_payment_method,
        order_number=order.number,
        idempotency_key=payment.idempotency_key,
    )


def test_issue9_13_a_second_charge_of_a_paid_order_is_refunded_and_shown_to_the_operator(
    admin_client, client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    payment = order.payments.get()
    duplicate = charge_again(order, payment)
    assert duplicate.succeeded and duplicate.id != payment.stripe_payment_intent

    about = {"id": duplicate.id, "payment_method": payment.stripe_payment_method,
             "metadata": {"order": order.number}}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("payment_intent.succeeded", **about))
        post_event(client, recorded_event("payment_intent.succeeded", **about))  # again: once
    refund = Refund.objects.get()
    assert (refund.reason, refund.status, refund.amount) == ("duplicate", "succeeded", 4790)
    assert refund.stripe_payment_intent == duplicate.id
    assert gateway.retrieve_payment_intent(payment_intent_id=duplicate.id).amount_refunded == 4790
    order.refresh_from_db()
    assert order.status == "fulfilled" and order.amount_refunded == 0  # its payment stands
    assert LicenseEvent.objects.filter(order=order).count() == 1
    assert order.attention == "duplicate_refunded" and duplicate.id in order.attention_note
    changelist = reverse("admin:orders_order_changelist") + "?attention=duplicate_refunded"
    assert order.number in admin_client.get(changelist).text


def test_issue9_13_an_older_attempt_paid_late_beside_the_newer_one_is_refunded(
    customer, django_capture_on_commit_callbacks
):
    """3-D Secure completed in a forgotten window after the order was paid with another card."""
    order = order_with_card(customer, THREE_DS)
    first = services.confirm_order(order=order)
    Order.objects.filter(pk=order.pk).update(status="payment_failed")  # gave up on it
    add_card(order)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    authenticate_3d_secure(first.client_secret, success=True)  # ...and then it went through

    with django_capture_on_commit_callbacks(execute=True):
        services.sync_payment(payment=first.payment)
    first.payment.refresh_from_db()
    assert first.payment.status == "duplicate"
    assert Refund.objects.get().stripe_payment_intent == first.payment.stripe_payment_intent
    order.refresh_from_db()
    assert order.status == "fulfilled" and order.attention == "duplicate_refunded"
    assert list(order.payments.values_list("status", flat=True)) == ["duplicate", "succeeded"]
