"""The webhook endpoint and event processing (DESIGN 5.7) against localstripe."""

import hashlib
import hmac
import time

import pytest
from django.conf import settings

from licenses.models import LicenseEvent
from orders import services
from orders.models import WebhookEvent
from orders.payments import gateway
from orders.payments.testing import authenticate_3d_secure, sign_event
from orders.payments.webhooks import handle_webhook_event, store_webhook_event
from tests.helpers.orders import order_paid_at_stripe, order_with_card
from tests.helpers.stripe import OK, THREE_DS, event, post_event, recorded_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_valid_event_is_stored_and_answered_200(client):
    response = post_event(client, event("evt_1", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(stripe_id="evt_1")
    assert stored.type == "customer.created"
    assert stored.status == "ignored"  # unknown types are kept and marked ignored


def test_forged_signature_is_refused_and_nothing_stored(client):
    body, header = sign_event(event("evt_2", "payment_intent.succeeded", {}), secret="whsec_forged")
    response = client.post("/stripe/webhook/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header)  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused(client):
    response = client.post("/stripe/webhook/", b"{}", content_type="application/json")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_stale_timestamp_is_refused(client):
    response = post_event(
        client, event("evt_3", "payment_intent.succeeded", {}), at=int(time.time()) - 301
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_malformed_json_is_refused(client):
    body = b"{not json"
    timestamp = int(time.time())
    signature = hmac.new(settings.STRIPE_WEBHOOK_SECRET.encode(), b"%d.%s" % (timestamp, body),
                         hashlib.sha256).hexdigest()  # fmt: skip
    response = client.post("/stripe/webhook/", body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}")  # fmt: skip
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_two_megabyte_body_is_refused(client):
    payload = event("evt_big", "payment_intent.succeeded", {"padding": "x" * 2_000_000})
    response = post_event(client, payload)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get("/stripe/webhook/").status_code == 405


def test_webhook_for_a_payment_the_customer_never_returned_from_extends_once(
    client, customer, django_capture_on_commit_callbacks
):
    """3-D Secure completed in the bank's window but the browser never came back."""
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    authenticate_3d_secure(result.client_secret, success=True)
    about = {"id": result.payment.stripe_payment_intent, "metadata": {"order": order.number}}
    payload = recorded_event("payment_intent.succeeded", **about)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, payload).status_code == 200
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert WebhookEvent.objects.get(stripe_id=payload["id"]).status == "processed"
    # The same event again, and a second event for the same payment: nothing more happens.
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, payload)
        post_event(client, recorded_event("payment_intent.succeeded", **about))
    assert LicenseEvent.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.count() == 2


def test_payment_failed_event_after_success_does_not_undo_the_payment(
    client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks)
    intent_id = order.payments.get().stripe_payment_intent
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("payment_intent.payment_failed", id=intent_id))
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert order.payments.get().status == "succeeded"


def test_event_for_an_unknown_payment_is_ignored(client, django_capture_on_commit_callbacks):
    payload = recorded_event("payment_intent.succeeded", id="pi_not_ours")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, payload)
    assert WebhookEvent.objects.get(stripe_id=payload["id"]).status == "ignored"


def test_processing_failure_is_recorded_and_retried(
    customer, settings, django_capture_on_commit_callbacks
):
    order = order_with_card(customer)
    services.confirm_order(order=order)
    intent_id = order.payments.get().stripe_payment_intent
    stored = store_webhook_event(
        event=event("evt_retry", "payment_intent.succeeded", {"id": intent_id})
    )
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable for a moment
    with pytest.raises(Exception):  # noqa: B017 - any failure must propagate for the retry
        handle_webhook_event(event=stored)
    stored.refresh_from_db()
    assert stored.status == "failed" and stored.attempts == 1 and stored.last_error
    settings.STRIPE_API_BASE = real_base
    handle_webhook_event(event=stored)
    stored.refresh_from_db()
    assert stored.status == "processed" and stored.attempts == 2 and stored.last_error == ""


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
    payload = recorded_event(
        "payment_intent.succeeded",
        id=intent.id,
        payment_method=payment.stripe_payment_method,
        metadata={"order": order.number},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, payload)
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert order.payments.get().stripe_payment_intent == intent.id


def test_issue9_14_redeliveries_of_a_pending_event_queue_its_processing_once(
    client, customer, django_capture_on_commit_callbacks
):
    """50 deliveries of one event (Stripe retrying, a proxy replaying): one task. What a lost
    task leaves pending is the sweep's (``test_reconciliation_requeues_stored_events``)."""
    order = order_with_card(customer, OK)
    services.confirm_order(order=order)
    payload = recorded_event(
        "payment_intent.succeeded", id=order.payments.get().stripe_payment_intent
    )
    with django_capture_on_commit_callbacks() as queued:
        responses = [post_event(client, payload) for _ in range(50)]
    assert {response.status_code for response in responses} == {200}
    assert WebhookEvent.objects.get().status == "pending"
    assert len(queued) == 1  # process_webhook_event, published when the first delivery committed
