"""Exactly-once extension under duplicates, races and failures (issue 4, DESIGN 6).

Real parts only: localstripe, the test database (SQLite or PostgreSQL), the broker of the run
(filesystem or Redis) and a real Celery worker process.
"""

import datetime as dt
import os
import signal
import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from licenses.models import License, LicenseEvent
from orders import services
from orders.fulfilment import fulfil_order
from orders.models import Order, SentMail, WebhookEvent
from orders.payments.reconciliation import reconcile_payments, run_reconciliation
from orders.payments.sync import sync_payment
from orders.payments.testing import authenticate_3d_secure
from tests.helpers.orders import order_with_card
from tests.helpers.stripe import THREE_DS, post_event, recorded_event
from tests.helpers.threads import run_together
from tests.plugins.worker import _drop_broker_connections, wait_until

pytestmark = pytest.mark.usefixtures("localstripe", "celery_worker_process")

FILESYSTEM_BROKER = (os.environ.get("CELERY_BROKER_URL") or "filesystem://").startswith(
    "filesystem"
)


def cleared_at_stripe(customer):
    """A payment Stripe holds as succeeded (3-D Secure completed) that the shop has not seen:
    the customer's browser never came back."""
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    authenticate_3d_secure(result.client_secret, success=True)
    return order, result.payment


def fulfilled(order) -> bool:
    return Order.objects.get(pk=order.pk).status == "fulfilled"


def extended_mail_sent(order) -> bool:
    return SentMail.objects.filter(order=order, key="license_extended").exists()


def assert_extended_once(order):
    wait_until(lambda: fulfilled(order) and extended_mail_sent(order), timeout=30)
    time.sleep(1.5)  # let any duplicate that is still on its way land
    assert LicenseEvent.objects.filter(order=order).count() == 1
    assert SentMail.objects.filter(order=order, key="license_extended").count() == 1
    assert SentMail.objects.filter(order=order, key="order_completed").count() == 1
    license = License.objects.get(pk=order.license_id)
    assert license.expires_on == LicenseEvent.objects.get(order=order).new_expires_on


def test_same_event_delivered_20_times_concurrently_extends_once(customer):
    order, payment = cleared_at_stripe(customer)
    payload = recorded_event("payment_intent.succeeded", id=payment.stripe_payment_intent)
    responses = []
    _results, errors = run_together(
        *[lambda: responses.append(post_event(Client(), payload)) for _ in range(20)]
    )
    assert errors == []
    assert [r.status_code for r in responses] == [200] * 20
    assert_extended_once(order)
    assert WebhookEvent.objects.count() == 1


def test_20_distinct_events_for_one_payment_extend_once(customer):
    order, payment = cleared_at_stripe(customer)
    intent_id = payment.stripe_payment_intent
    payloads = [recorded_event("payment_intent.succeeded", id=intent_id) for _ in range(20)]
    _results, errors = run_together(*[lambda p=p: post_event(Client(), p) for p in payloads])
    assert errors == []
    assert_extended_once(order)
    wait_until(lambda: not WebhookEvent.objects.exclude(status="processed").exists())
    assert WebhookEvent.objects.count() == 20


def test_webhook_customer_return_and_reconciliation_racing_extend_once(customer):
    order, payment = cleared_at_stripe(customer)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    payload = recorded_event("payment_intent.succeeded", id=payment.stripe_payment_intent)
    _results, errors = run_together(
        *[
            lambda: post_event(Client(), payload),  # the webhook
            lambda: sync_payment(payment=payment),  # the customer's return
            lambda: reconcile_payments(older_than=dt.timedelta(0)),  # the sweep
        ]
    )
    assert errors == []
    assert_extended_once(order)


def test_broker_down_when_the_webhook_arrives_then_the_sweep_extends(customer, monkeypatch):
    order, payment = cleared_at_stripe(customer)
    payload = recorded_event("payment_intent.succeeded", id=payment.stripe_payment_intent)
    working_broker = os.environ["CELERY_BROKER_URL"]

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    _drop_broker_connections()
    response = post_event(Client(), payload)
    assert response.status_code == 200  # Stripe is told "received": the event is in the table
    assert WebhookEvent.objects.get(stripe_id=payload["id"]).status == "pending"
    time.sleep(1)
    assert not fulfilled(order)

    monkeypatch.setenv("CELERY_BROKER_URL", working_broker)  # the broker is back
    _drop_broker_connections()
    report = reconcile_payments(older_than=dt.timedelta(0))
    assert report.events_requeued == 1
    assert_extended_once(order)
    assert WebhookEvent.objects.get(stripe_id=payload["id"]).status == "processed"


def test_webhook_that_never_came_is_caught_by_the_periodic_reconciliation(customer):
    order, _payment = cleared_at_stripe(customer)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    run_reconciliation.delay()  # what beat sends every RECONCILE_INTERVAL_SECONDS
    assert_extended_once(order)


def test_worker_killed_in_the_middle_of_the_extension_extends_once(customer, celery_worker_process):
    """SIGKILL while the extension waits for the license row lock (held here by the test).

    On Redis the unacknowledged task is delivered again to the restarted worker (acks_late);
    kombu's filesystem broker loses it with the worker, and the reconciliation sweep queues the
    paid order again. Either way: extended, once.
    """
    order, payment = cleared_at_stripe(customer)
    Order.objects.filter(pk=order.pk).update(status="paid", paid_at=timezone.now())
    payment.status = "succeeded"
    payment.save(update_fields=["status"])

    locked, release = threading.Event(), threading.Event()

    def hold_license_lock():
        try:
            with transaction.atomic():
                License.objects.select_for_update().get(pk=order.license_id)
                License.objects.filter(pk=order.license_id).update(updated_at=timezone.now())
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_license_lock)
    holder.start()
    assert locked.wait(10)
    fulfil_order.delay(order.pk)
    wait_until(lambda: "orders.fulfilment.fulfil_order" in celery_worker_process.log(), timeout=15)
    time.sleep(1)  # the task is now blocked on the lock
    celery_worker_process.kill(signal.SIGKILL)
    release.set()
    holder.join(10)
    assert not fulfilled(order)

    if FILESYSTEM_BROKER:
        celery_worker_process.restart()
        reconcile_payments(older_than=dt.timedelta(0))
    else:
        time.sleep(1.5)  # older than the short visibility timeout below
        celery_worker_process.restart(env={"CELERY_VISIBILITY": "1"})
    wait_until(lambda: fulfilled(order), timeout=30)
    time.sleep(1.5)
    assert LicenseEvent.objects.filter(order=order).count() == 1
