"""The order and webhook admin (issue 9, point 7; issue 10, point 5): refunds ask first, and
every action says what failed."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from licenses.models import LicenseEvent
from orders.models import Order, WebhookEvent
from orders.payments.webhooks import store_webhook_event
from tests.factories import OrderFactory, PaymentFactory
from tests.helpers.orders import order_paid_at_stripe
from tests.helpers.stripe import event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]

ORDERS = reverse("admin:orders_order_changelist")
EVENTS = reverse("admin:orders_webhookevent_changelist")


def run_action(client, url, action, ids, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], **extra}
    return client.post(url, data, follow=True)


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_issue9_7_refund_action_asks_for_confirmation_before_refunding(
    admin_client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)

    asked = run_action(admin_client, ORDERS, "refund", [order.pk])
    assert asked.status_code == 200
    assert "これらの注文を返金しますか?" in asked.text
    assert order.number in asked.text and "はい、返金します" in asked.text
    assert Order.objects.get(pk=order.pk).status == "fulfilled"  # nothing done yet
    assert not order.refunds.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = run_action(admin_client, ORDERS, "refund", [order.pk], confirm="yes")
    assert f"注文 {order.number} を返金しました。" in texts(done)
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert LicenseEvent.objects.filter(order=order, kind="refunded").count() == 1
    assert order.refunds.get().actor.username == "admin"


def test_issue9_7_refund_action_reports_refusals_in_the_operators_language(
    admin_client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    Order.objects.filter(pk=order.pk).update(status="payment_failed")
    done = run_action(admin_client, ORDERS, "refund", [order.pk], confirm="yes")
    assert any("返金できるのは支払い済みの注文だけです" in text for text in texts(done))


def test_issue9_7_reprocess_says_which_events_failed_instead_of_claiming_success(
    admin_client, settings
):
    payment = PaymentFactory(order=OrderFactory(), stripe_payment_intent="pi_known")
    fine = store_webhook_event(event=event("evt_fine", "payment_intent.succeeded", {"id": "pi_x"}))
    failing = store_webhook_event(
        event=event(
            "evt_failing", "payment_intent.succeeded", {"id": payment.stripe_payment_intent}
        )
    )
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable while reprocessing
    messages = texts(run_action(admin_client, EVENTS, "reprocess", [fine.pk, failing.pk]))
    assert "1 件のイベントを再処理しました。" in messages
    assert any(text.startswith("1 件は失敗しました") for text in messages), messages
    assert any(text.startswith("evt_failing: ") for text in messages), messages
    assert WebhookEvent.objects.get(pk=fine.pk).status == "ignored"
    assert WebhookEvent.objects.get(pk=failing.pk).status == "failed"


def test_issue10_5_needs_attention_filter_and_mark_handled(admin_client):
    order = OrderFactory(attention="amount_mismatch", attention_note="PaymentIntent pi_1 is 1 jpy")
    assert order.number in admin_client.get(ORDERS + "?attention=amount_mismatch").text
    run_action(admin_client, ORDERS, "mark_handled", [order.pk])
    order.refresh_from_db()
    assert order.attention == "" and order.attention_note  # the flag goes, the notes stay
    assert order.number not in admin_client.get(ORDERS + "?attention=amount_mismatch").text
