"""Webhooks, reconciliation and refunds (DESIGN 5.5–5.7, 6) against localstripe."""

import datetime as dt
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from licenses.dates import add_years
from licenses.models import LicenseEvent
from orders import clearing, services
from orders.models import Order, WebhookEvent
from tests.orders.stripe_events import event, post, signed
from tests.orders.test_checkout_services import OK, order_with_card

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def paid_order(customer, capture, **kwargs):
    order = order_with_card(customer, **kwargs)
    with capture(execute=True):
        services.confirm_order(order=order)
    order.refresh_from_db()
    return order


# --- The endpoint -------------------------------------------------------------------------------


def test_valid_event_is_stored_and_answered_200(client):
    response = post(client, event("evt_1", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(stripe_id="evt_1")
    assert stored.type == "customer.created"
    assert stored.status == "ignored"  # unknown types are kept and marked ignored


def test_forged_signature_is_refused_and_nothing_stored(client):
    body, header = signed(event("evt_2", "payment_intent.succeeded", {}), secret="whsec_forged")
    response = client.post("/stripe/webhook/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused(client):
    response = client.post("/stripe/webhook/", b"{}", content_type="application/json")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_stale_timestamp_is_refused(client):
    response = post(
        client, event("evt_3", "payment_intent.succeeded", {}), at=int(time.time()) - 301
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_malformed_json_is_refused(client):
    body = b"{not json"
    _body, header = signed({})
    timestamp = header.split(",")[0][2:]
    import hashlib
    import hmac

    from django.conf import settings

    signature = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body,
                         hashlib.sha256).hexdigest()  # fmt: skip
    response = client.post("/stripe/webhook/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}")  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_two_megabyte_body_is_refused(client):
    payload = event("evt_big", "payment_intent.succeeded", {"padding": "x" * 2_000_000})
    response = post(client, payload)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get("/stripe/webhook/").status_code == 405


# --- Processing ---------------------------------------------------------------------------------


def test_webhook_for_a_payment_the_customer_never_returned_from_extends_once(
    client, customer, django_capture_on_commit_callbacks
):
    """3-D Secure completed in the bank's window but the browser never came back."""
    from tests.plugins.localstripe import authenticate_3d_secure

    order = order_with_card(customer, "4000002760003184")
    result = services.confirm_order(order=order)
    authenticate_3d_secure(result.client_secret, success=True)
    intent_id = result.payment.stripe_payment_intent
    payload = event("evt_ok", "payment_intent.succeeded", {"id": intent_id})
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, payload).status_code == 200
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert WebhookEvent.objects.get(stripe_id="evt_ok").status == "processed"
    # The same event again, and a second event for the same payment: nothing more happens.
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload)
        post(client, event("evt_ok_2", "payment_intent.succeeded", {"id": intent_id}))
    assert LicenseEvent.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.count() == 2


def test_payment_failed_event_after_success_does_not_undo_the_payment(
    client, customer, django_capture_on_commit_callbacks
):
    order = paid_order(customer, django_capture_on_commit_callbacks)
    intent_id = order.payments.get().stripe_payment_intent
    with django_capture_on_commit_callbacks(execute=True):
        post(client, event("evt_late_fail", "payment_intent.payment_failed", {"id": intent_id}))
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert order.payments.get().status == "succeeded"


def test_event_for_an_unknown_payment_is_ignored(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, event("evt_x", "payment_intent.succeeded", {"id": "pi_not_ours"}))
    assert WebhookEvent.objects.get(stripe_id="evt_x").status == "ignored"


def test_processing_failure_is_recorded_and_retried(
    customer, settings, django_capture_on_commit_callbacks
):
    order = order_with_card(customer)
    services.confirm_order(order=order)
    intent_id = order.payments.get().stripe_payment_intent
    stored = clearing.store_webhook_event(
        event=event("evt_retry", "payment_intent.succeeded", {"id": intent_id})
    )
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable for a moment
    with pytest.raises(Exception):  # noqa: B017 - any failure must propagate for the retry
        clearing.process_webhook_event(event=stored)
    stored.refresh_from_db()
    assert stored.status == "failed" and stored.attempts == 1 and stored.last_error
    settings.STRIPE_API_BASE = real_base
    clearing.process_webhook_event(event=stored)
    stored.refresh_from_db()
    assert stored.status == "processed" and stored.attempts == 2 and stored.last_error == ""


# --- Reconciliation -------------------------------------------------------------------------------


def test_webhook_that_never_came_is_caught_by_reconciliation(
    customer, django_capture_on_commit_callbacks
):
    from tests.plugins.localstripe import authenticate_3d_secure

    order = order_with_card(customer, "4000002760003184")
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
    clearing.reconcile_payments()
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_reconciliation_requeues_stored_events(customer):
    order = order_with_card(customer)
    services.confirm_order(order=order)
    stored = clearing.store_webhook_event(
        event=event(
            "evt_stuck",
            "payment_intent.succeeded",
            {"id": order.payments.get().stripe_payment_intent},
        )
    )
    WebhookEvent.objects.filter(pk=stored.pk).update(
        received_at=stored.received_at.replace(year=2020)
    )
    report = clearing.reconcile_payments()
    assert report.events_requeued == 1
    stored.refresh_from_db()
    assert stored.status == "processed"


# --- Refunds --------------------------------------------------------------------------------------


def test_refund_reverses_the_extension_with_a_new_ledger_row_and_a_mail(
    customer, django_capture_on_commit_callbacks
):
    order = paid_order(customer, django_capture_on_commit_callbacks)
    order.license.refresh_from_db()
    extended = order.license.expires_on
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        clearing.refund_order(order=order)
        clearing.refund_order(order=order)  # twice: one refund, one reversal
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
    order = paid_order(customer, django_capture_on_commit_callbacks)
    clearing.refund_order(order=order)
    intent_id = order.payments.get().stripe_payment_intent
    with django_capture_on_commit_callbacks(execute=True):
        post(
            client,
            event("evt_refund", "charge.refunded", {"id": "ch_x", "payment_intent": intent_id}),
        )
    assert LicenseEvent.objects.filter(order=order, kind="refunded").count() == 1


def test_refund_of_an_unpaid_order_is_refused(customer):
    order = order_with_card(customer, OK)
    with pytest.raises(clearing.RefundError):
        clearing.refund_order(order=order)


def test_reconciliation_leaves_payments_abandoned_for_over_a_week_alone(customer):
    order = order_with_card(customer, "4000002760003184")
    services.confirm_order(order=order)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(days=8))
    assert clearing.reconcile_payments().orders_synced == 0


def test_one_order_stuck_in_payment_is_reread_once_per_window(customer):
    order = order_with_card(customer, "4000002760003184")
    services.confirm_order(order=order)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    assert clearing.reconcile_payments().orders_synced == 1
    assert clearing.reconcile_payments().orders_synced == 0  # touched: others take their turn
