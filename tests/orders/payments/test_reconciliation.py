"""Reconciliation (DESIGN 6): what webhooks and lost tasks missed is found and done again."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from orders import services
from orders.fulfilment import extend_license
from orders.models import Order, SentMail, WebhookEvent
from orders.payments.reconciliation import reconcile_payments
from orders.payments.testing import authenticate_3d_secure
from orders.payments.webhooks import store_webhook_event
from tests.helpers.orders import order_with_card
from tests.helpers.stripe import OK, THREE_DS, event

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
