"""Signed bodies that cannot be Stripe events are refused with 400 and never stored or retried;
unsigned junk never reaches parsing (DESIGN 5.7, 9)."""

import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.test import Client

from orders.models import WebhookEvent
from orders.payments.reconciliation import reconcile_payments
from orders.payments.webhooks import handle_webhook_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def signed_post(client, body: bytes, header: str | None = None):
    """POST ``body`` as it is, with a valid signature over exactly these bytes."""
    timestamp = int(time.time())
    if header is None:
        secret = settings.STRIPE_WEBHOOK_SECRET.encode()
        digest = hmac.new(secret, b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
        header = f"t={timestamp},v1={digest}"
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def event_body(**changes) -> bytes:
    event = {
        "id": "evt_malformed",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
    }
    event.update(changes)
    return json.dumps(event).encode()


def test_non_ascii_signature_header_is_refused_with_400(client):
    response = signed_post(client, event_body(), header=f"t={int(time.time())},v1=ääää")
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


MALFORMED = {
    "type is an object": event_body(type={"a": 1}),
    "type is a list": event_body(type=["payment_intent.succeeded"]),
    "type contains NUL": event_body(type="payment_intent.succeeded\x00"),
    "type is empty": event_body(type=""),
    "id is a number": event_body(id=12),
    "id is an object": event_body(id={"a": 1}),
    "data is a string": event_body(data="payment"),
    "data is a list": event_body(data=[1, 2]),
    "object is a string": event_body(data={"object": "pi_1"}),
    "object id is a list": event_body(data={"object": {"id": ["pi_1"]}}),
    "metadata order is a list": event_body(
        data={"object": {"id": "pi_1", "metadata": {"order": ["R1"]}}}
    ),
    "NUL in a nested string": event_body(data={"object": {"id": "pi_1", "note": "a\x00b"}}),
    "NUL in a key": event_body(data={"object": {"id": "pi_1", "a\x00": 1}}),
    "NaN": b'{"id": "evt_nan", "type": "payment_intent.succeeded", '
    b'"data": {"object": {"id": "pi_1", "amount": NaN}}}',
    "Infinity": event_body().replace(b'"pi_1"', b'"pi_1", "amount": Infinity'),
    "a float out of range": event_body().replace(b'"pi_1"', b'"pi_1", "amount": 1e999'),
    "an integer of 5000 digits": event_body().replace(b'"pi_1"', b'"pi_1", "n": ' + b"9" * 5000),
    "deep nesting": event_body().replace(b'"pi_1"', b'"pi_1", "x": ' + b"[" * 200 + b"]" * 200),
    "very deep nesting": event_body().replace(
        b'"pi_1"', b'"pi_1", "x": ' + b"[" * 100_000 + b"]" * 100_000
    ),
    "not an object": b"[1, 2, 3]",
    "invalid UTF-8": event_body().replace(b"pi_1", b"pi_\xff"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_signed_malformed_event_is_refused_with_400_and_not_stored(client, body):
    response = signed_post(client, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_well_formed_event_of_another_kind_is_still_stored(client):
    response = signed_post(client, event_body(type="customer.created", data={"object": {}}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == "ignored"


def test_a_stored_event_that_can_never_succeed_is_set_aside_not_retried():
    """Stored before the endpoint refused such bodies: processing marks it for the operator
    (status ignored, the reason kept) instead of failing and being re-queued forever."""
    event = WebhookEvent.objects.create(
        stripe_id="evt_old", type="payment_intent.succeeded", payload={"id": "evt_old",
        "type": "payment_intent.succeeded", "data": "payment"},
        received_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    handled = handle_webhook_event(event=event)  # no exception: nothing to retry
    assert handled.status == "ignored"
    assert handled.last_error.startswith("Malformed event, not processed:")
    assert reconcile_payments().events_requeued == 0
