"""Reconciliation (DESIGN 6): what webhooks and lost tasks missed is found and done again."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.fulfilment import extend_license
from orders.models import Order, SentMail, WebhookEvent
from orders.payments import gateway
from orders.payments.reconciliation import reconcile_payments
from orders.payments.testing import authenticate_3d_secure
from orders.payments.webhooks import store_webhook_event
from tests.helpers.orders import order_for, order_with_card
from tests.helpers.stripe import (
    DECLINED_ON_CHARGE,
    OK,
    THREE_DS,
    event,
    post_event,
    recorded_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_webhook_that_never_came_is_caught_by_reconciliation(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    authenticate_3d_secure(result.client_secret, success=True)
    Order.objects.filter(pk=order.pk).update(updated_at=order.updated_at - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reconcile_payments")
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_reconciliation_requeues_paid_orders_not_extended(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer)
    services.confirm_order(order=order)  # on-commit tasks dropped: as if the broker was down
    order.refresh_from_db()
    assert order.status == "paid"
    Order.objects.filter(pk=order.pk).update(paid_at=order.paid_at.replace(year=2020))
    with django_capture_on_commit_callbacks(execute=True):  # the sweep's tasks, run in-process
        reconcile_payments()
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_reconciliation_requeues_stored_events(customer, django_capture_on_commit_callbacks):
    order = order_with_card(customer)
    services.confirm_order(order=order)
    stored = store_webhook_event(
        event=event(
            "evt_stuck",
            "payment_intent.succeeded",
            {"id": order.payments.get().stripe_payment_intent},
        )
    )
    WebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=stored.received_at.replace(year=2020)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_payments()
    assert report.events_requeued == 1
    stored.refresh_from_db()
    assert stored.status == "processed"


def test_reconciliation_sends_mails_whose_task_was_lost(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, OK)
    services.confirm_order(order=order)  # tasks dropped, as with the broker down
    extend_license(order=Order.objects.get(pk=order.pk))
    assert not SentMail.objects.exists()
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Order.objects.filter(pk=order.pk).update(paid_at=long_ago, fulfilled_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_payments()
    assert report.mails_requeued == 2
    assert set(SentMail.objects.values_list("key", flat=True)) == {
        "order_completed",
        "license_extended",
    }
    assert len(mail.outbox) == 2
    assert reconcile_payments().mails_requeued == 0


def test_reconciliation_leaves_payments_abandoned_for_over_a_week_alone(customer):
    order = order_with_card(customer, THREE_DS)
    services.confirm_order(order=order)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(days=8))
    assert reconcile_payments().orders_synced == 0


def test_one_order_stuck_in_payment_is_reread_once_per_window(customer):
    order = order_with_card(customer, THREE_DS)
    services.confirm_order(order=order)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert reconcile_payments().orders_synced == 1
    assert reconcile_payments().orders_synced == 0  # touched: others take their turn


def test_issue9_8_orders_left_at_draft_or_details_are_canceled_with_their_intents_at_stripe(
    client, customer, django_capture_on_commit_callbacks, settings
):
    settings.STALE_ORDER_HOURS = 24
    draft = order_for(customer)
    services.prepare_card_setup(order=draft)  # the details page was opened, nothing entered
    setup_intent = Order.objects.get(pk=draft.pk).stripe_setup_intent
    entered = order_with_card(customer, OK)  # card set up, never confirmed
    card = entered.payments.get().stripe_payment_method
    declined = order_with_card(customer, DECLINED_ON_CHARGE)
    declined_intent = services.confirm_order(order=declined).payment.stripe_payment_intent
    fresh = order_with_card(customer, OK)
    stale = [draft, entered, declined]
    Order.objects.filter(pk__in=[o.pk for o in stale]).update(
        updated_at=timezone.now() - dt.timedelta(hours=25)
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_payments()

    assert report.orders_canceled == 3
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in stale])} == {"canceled"}
    assert Order.objects.get(pk=fresh.pk).status == "details_entered"
    assert gateway.retrieve_setup_intent(setup_intent_id=setup_intent).status == "canceled"
    assert gateway.retrieve_payment_intent(payment_intent_id=declined_intent).status == "canceled"
    assert gateway.retrieve_payment_method(payment_method_id=card).customer_id is None
    assert entered.payments.get().status == "canceled"

    # Canceled means it can no longer be paid, by a stale tab or a bookmarked link.
    with pytest.raises(services.CheckoutError):
        services.confirm_order(order=entered)
    client.force_login(customer)
    response = client.get(reverse("orders:confirm", args=[entered.number]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:detail", args=[entered.number])
    assert "キャンセルしました" in response.text


def test_issue9_15_a_later_webhook_or_status_poll_queues_a_lost_extension_again(
    client, customer, django_capture_on_commit_callbacks, settings
):
    """Paid, but the extension task was lost (a worker killed holding it): the next sync of
    the order queues it again instead of waiting for the sweep."""
    settings.FULFIL_NUDGE_SECONDS = 5
    by_webhook, by_poll = order_with_card(customer, OK), order_with_card(customer, OK)
    for order in (by_webhook, by_poll):
        services.confirm_order(order=order)  # tasks dropped: as if the worker died with them
    paid_long_ago = timezone.now() - dt.timedelta(seconds=30)
    Order.objects.filter(pk__in=[by_webhook.pk, by_poll.pk]).update(paid_at=paid_long_ago)

    payload = recorded_event(
        "payment_intent.succeeded", id=by_webhook.payments.get().stripe_payment_intent
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, payload)
    assert Order.objects.get(pk=by_webhook.pk).status == "fulfilled"

    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        status = client.get(reverse("orders:status", args=[by_poll.number])).json()
    assert status["status"] == "paid"  # answered at once; the extension follows
    assert Order.objects.get(pk=by_poll.pk).status == "fulfilled"


def test_issue9_15_a_freshly_paid_order_polled_is_left_to_its_own_task(
    client, customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, OK)
    services.confirm_order(order=order)  # its task is (still) on its way
    client.force_login(customer)
    with django_capture_on_commit_callbacks() as queued:
        client.get(reverse("orders:status", args=[order.number]))
    assert queued == []
