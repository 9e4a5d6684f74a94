"""Stripe webhook events (DESIGN 5.7): store first, process on a worker, never trust the body.

An event is stored (unique Stripe id) and committed before anything else; its processing re-reads
the PaymentIntent from Stripe and calls the one ``sync_payment``, and the event is marked processed
only after that succeeded. A failure is kept on the row and retried with backoff; an event whose
task was lost (the broker was down) is queued again by the reconciliation sweep.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from config.celery import RETRY_WITH_BACKOFF
from orders.models import Order, Payment, WebhookEvent

from .gateway import event_problem
from .sync import sync_payment

logger = logging.getLogger(__name__)
S = Order.Status

PAYMENT_INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.canceled",
}
REFUND_EVENTS = {"charge.refunded", "charge.refund.updated"}
HANDLED_EVENTS = PAYMENT_INTENT_EVENTS | REFUND_EVENTS


def store_webhook_event(*, event: dict) -> WebhookEvent:
    """Store a verified event once (unique Stripe id) and queue its processing on commit.

    An event type we do not handle is stored and marked ignored: the table is the record of
    everything Stripe said.
    """
    handled = event["type"] in HANDLED_EVENTS
    with transaction.atomic():
        stored, created = WebhookEvent.objects.get_or_create(
            stripe_id=str(event["id"])[:100],
            defaults={
                "type": str(event["type"])[:100],
                "payload": event,
                "status": WebhookEvent.Status.PENDING if handled else WebhookEvent.Status.IGNORED,
            },
        )
        if stored.status in (WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED):
            # With the broker down the event stays pending in the table; the sweep queues it.
            process_webhook_event.delay(stored.pk)
    if not created:
        logger.info("Webhook event %s received again", stored.stripe_id)
    return stored


def handle_webhook_event(*, event: WebhookEvent) -> WebhookEvent:
    """Act on one stored event; mark it processed only once that succeeded.

    Concurrent deliveries of the same event are serialized by the row lock; a second run finds
    it processed. A failure is recorded on the row and raised, so the task retries with backoff.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
            return event
        event.attempts += 1
        event.save(update_fields=["attempts"])
        if problem := event_problem(event.payload):
            # Stored before the webhook refused such events: it fails the same way every time,
            # so it is set aside for the operator (kept, with the reason) and never retried.
            event.status = WebhookEvent.Status.IGNORED
            event.last_error = f"Malformed event, not processed: {problem}"
            event.save(update_fields=["status", "last_error"])
            return event
    try:
        outcome = _act_on(event)
    except Exception as error:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=outcome, processed_at=timezone.now(), last_error=""
    )
    event.refresh_from_db()
    return event


def _act_on(event: WebhookEvent) -> str:
    obj = (event.payload.get("data") or {}).get("object") or {}
    if event.type in PAYMENT_INTENT_EVENTS:
        intent_id = obj.get("id")
    elif event.type in REFUND_EVENTS:
        intent_id = obj.get("payment_intent")
    else:
        return WebhookEvent.Status.IGNORED
    payment = Payment.objects.filter(stripe_payment_intent=intent_id).first() if intent_id else None
    if payment is None and event.type in PAYMENT_INTENT_EVENTS:
        payment = _adopt_unrecorded_intent(obj)
    if payment is None:
        logger.warning("Webhook %s names no payment of ours (%s)", event.stripe_id, intent_id)
        return WebhookEvent.Status.IGNORED
    sync_payment(payment=payment)
    return WebhookEvent.Status.PROCESSED


def _adopt_unrecorded_intent(obj: dict) -> Payment | None:
    """A PaymentIntent created for one of our orders whose id we never stored.

    ``confirm_order`` creates the PaymentIntent and records its id in one transaction; if that
    transaction rolled back afterwards (a timeout, a killed process), the charge exists and only
    its metadata knows the order. Attach it to the attempt whose card it used, then sync.
    """
    number = (obj.get("metadata") or {}).get("order")
    intent_id, card = obj.get("id"), obj.get("payment_method")
    if not number or not intent_id:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(number=number).first()
        if order is None:
            return None
        candidates = order.payments.filter(stripe_payment_intent=None).order_by("-attempt")
        if card:
            candidates = candidates.filter(stripe_payment_method=card)
        payment = candidates.first()
        if payment is None:
            return None
        payment.stripe_payment_intent = intent_id
        payment.save(update_fields=["stripe_payment_intent", "updated_at"])
        if order.status == S.DETAILS_ENTERED:
            order.status = S.AWAITING_PAYMENT
            order.save(update_fields=["status", "updated_at"])
    logger.warning("Order %s: adopted unrecorded PaymentIntent %s", number, intent_id)
    return payment


@shared_task(**RETRY_WITH_BACKOFF)
def process_webhook_event(event_id: int) -> str:
    """Stripe event → re-read the PaymentIntent → sync. Failures retry with backoff."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return "missing"
    return handle_webhook_event(event=event).status
