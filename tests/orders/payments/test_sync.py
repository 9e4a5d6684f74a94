"""The one "sync payment" service across attempts and 3-D Secure (DESIGN 5.4, T6)."""

import pytest
from django.urls import reverse

from orders import services
from orders.payments import gateway
from orders.payments.sync import sync_payment
from orders.payments.testing import authenticate_3d_secure
from tests.helpers.orders import add_card, order_with_card
from tests.helpers.stripe import DECLINED_ON_CHARGE, THREE_DS

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
