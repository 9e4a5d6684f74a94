"""Refunds (DESIGN 5.8, 6; issue 10 point 5): the extension is taken back once, by a new ledger
row, and only for money Stripe says was refunded."""

import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from licenses.dates import add_years
from licenses.models import LicenseEvent
from orders import services
from orders.models import Order, Refund
from orders.payments import gateway
from orders.payments.refunds import RefundError, refund_order
from orders.payments.testing import refund_in_dashboard
from tests.helpers.orders import order_paid_at_stripe, order_with_card
from tests.helpers.stripe import (
    OK,
    REFUND_FAILS_LATER,
    REFUND_SUCCEEDS_LATER,
    post_event,
    recorded_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def reversals(order):
    return LicenseEvent.objects.filter(order=order, kind="refunded")


def wait_for_refund_status(refund_id, status, timeout=10):
    """Stripe settles asynchronous refunds "some time later" (localstripe: a second)."""
    deadline = time.monotonic() + timeout
    while gateway.retrieve_refund(refund_id=refund_id).status != status:
        assert time.monotonic() < deadline, f"refund {refund_id} never became {status}"
        time.sleep(0.1)


def test_refund_reverses_the_extension_with_a_new_ledger_row_and_a_mail(
    customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    order.license.refresh_from_db()
    extended = order.license.expires_on
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_order(order=order)
        assert refund_order(order=order) is None  # twice: one refund, one reversal
    order.refresh_from_db()
    order.license.refresh_from_db()
    assert (refund.status, refund.reason, refund.amount) == ("succeeded", "operator", 4790)
    assert refund.stripe_id.startswith("re_")
    assert order.status == "refunded" and order.amount_refunded == 4790
    assert order.license.expires_on == add_years(extended, -1)
    assert reversals(order).count() == 1
    assert LicenseEvent.objects.filter(order=order, kind="renewed").count() == 1  # history kept
    assert len(mail.outbox) == 1 and "返金" in mail.outbox[0].subject


def test_refund_webhook_after_the_api_refund_finds_it_done(
    client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    refund = refund_order(order=order)
    payment = order.payments.get()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(
            client,
            recorded_event(
                "charge.refunded",
                id=payment.stripe_charge,
                payment_intent=payment.stripe_payment_intent,
            ),
        )
    assert reversals(order).count() == 1
    assert list(order.refunds.values_list("stripe_id", flat=True)) == [refund.stripe_id]


def test_refund_of_an_unpaid_order_is_refused_in_the_operators_language(customer):
    order = order_with_card(customer, OK)
    with pytest.raises(RefundError) as refused:
        refund_order(order=order)
    assert str(refused.value) == (
        f"注文 {order.number} は「入力済み」の状態です。返金できるのは支払い済みの注文だけです。"
    )


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
    assert reversals(order).count() == 1


@pytest.mark.parametrize("event_type", ["charge.refund.updated", "refund.updated"])
def test_issue10_5_pending_refund_reverses_nothing_until_stripe_says_it_succeeded(
    client, customer, django_capture_on_commit_callbacks, event_type
):
    order = order_paid_at_stripe(
        customer, django_capture_on_commit_callbacks, number=REFUND_SUCCEEDS_LATER
    )
    order.license.refresh_from_db()
    extended = order.license.expires_on
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_order(order=order)
    order.refresh_from_db()
    assert refund.status == "pending"
    assert order.status == "fulfilled" and order.amount_refunded == 0
    assert not reversals(order).exists()
    with pytest.raises(RefundError, match="すでに手続き中"):  # a second click refunds nothing
        refund_order(order=order)
    assert order.refunds.count() == 1

    wait_for_refund_status(refund.stripe_id, "succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, recorded_event(event_type, id=refund.stripe_id))
    assert response.status_code == 200
    order.refresh_from_db()
    order.license.refresh_from_db()
    assert order.status == "refunded" and order.amount_refunded == order.amount
    assert order.license.expires_on == add_years(extended, -1)
    assert reversals(order).count() == 1
    assert Refund.objects.get().status == "succeeded"


def test_issue10_5_failed_refund_is_shown_to_the_operator_and_changes_nothing(
    admin_client, client, customer, django_capture_on_commit_callbacks
):
    """Stripe's test card 4000000000005126: the refund answers succeeded, then fails."""
    order = order_paid_at_stripe(
        customer, django_capture_on_commit_callbacks, number=REFUND_FAILS_LATER
    )
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_order(order=order)
    assert refund.status == "succeeded"
    order.refresh_from_db()
    assert order.status == "refunded"
    ledger = list(LicenseEvent.objects.filter(order=order).values_list("kind", flat=True))

    wait_for_refund_status(refund.stripe_id, "failed")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("refund.failed", id=refund.stripe_id))
    order.refresh_from_db()
    refund.refresh_from_db()
    assert refund.status == "failed" and refund.failure_reason == "expired_or_canceled_card"
    assert order.attention == "refund_failed" and refund.stripe_id in order.attention_note
    assert list(LicenseEvent.objects.filter(order=order).values_list("kind", flat=True)) == (
        ledger
    )  # nothing undone, nothing redone: the operator decides
    flagged = admin_client.get(
        reverse("admin:orders_order_changelist") + "?attention=refund_failed"
    )
    assert order.number in flagged.text
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).text
    assert "返金に失敗" in page and "expired_or_canceled_card" in page


def test_issue10_5_refund_made_in_the_dashboard_is_stored_with_its_id(
    client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    payment = order.payments.get()
    made = refund_in_dashboard(payment.stripe_payment_intent)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(
            client,
            recorded_event(
                "charge.refunded",
                id=payment.stripe_charge,
                payment_intent=payment.stripe_payment_intent,
            ),
        )
    refund = Refund.objects.get()
    assert (refund.stripe_id, refund.reason, refund.status) == (made["id"], "stripe", "succeeded")
    order.refresh_from_db()
    assert order.status == "refunded" and reversals(order).count() == 1


def test_issue10_5_partial_refund_is_recorded_and_shown_not_reversed(
    admin_client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    payment = order.payments.get()
    refund_in_dashboard(payment.stripe_payment_intent, amount=1000)
    webhook = Client()
    charge_refunded = {"id": payment.stripe_charge, "payment_intent": payment.stripe_payment_intent}
    with django_capture_on_commit_callbacks(execute=True):
        post_event(webhook, recorded_event("charge.refunded", **charge_refunded))
    order.refresh_from_db()
    assert order.status == "fulfilled" and order.amount_refunded == 1000 and order.partly_refunded
    assert not reversals(order).exists()
    owner = Client()
    owner.force_login(customer)
    page = owner.get(reverse("orders:detail", args=[order.number])).text
    assert "¥4,790 のうち ¥1,000 (一部返金)" in page
    changelist = admin_client.get(reverse("admin:orders_order_changelist")).text
    assert '<td class="field-refunded">1000</td>' in changelist

    # The rest refunded later: now the whole payment is back, and the extension with it.
    refund_in_dashboard(payment.stripe_payment_intent, amount=3790)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(webhook, recorded_event("charge.refunded", **charge_refunded))
    order.refresh_from_db()
    assert order.status == "refunded" and order.amount_refunded == 4790
    assert reversals(order).count() == 1 and order.refunds.count() == 2
