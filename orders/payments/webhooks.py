"""Stripe webhook events (DESIGN 5.7): store first, process on a worker, never trust the body.

An event is stored (unique Stripe id) and committed before anything else; its processing is
queued once, when it is first stored (a redelivery of a pending event queues nothing: the sweep
re-queues what was lost). Processing re-reads the object from Stripe (PaymentIntent, refund,
dispute) and calls the one service that follows it; the event is marked processed only after
that succeeded. A failure is kept on the row and retried with backoff.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import RETRY_WITH_BACKOFF
from orders.models import Order, Payment, WebhookEvent

from . import gateway
from .disputes import sync_dispute
from .duplicates import refund_duplicate_charge
from .refunds import sync_refund, sync_refunds
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
CHARGE_REFUND_EVENTS = {"charge.refunded"}  # the object is the charge
REFUND_EVENTS = {"charge.refund.updated", "refund.created", "refund.updated", "refund.failed"}
DISPUTE_EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}
HANDLED_EVENTS = PAYMENT_INTENT_EVENTS | CHARGE_REFUND_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS


def store_webhook_event(*, event: dict) -> WebhookEvent:
    """Store a verified event once (unique Stripe id) and queue its processing on commit.

    An event type we do not handle is stored and marked ignored: the table is the record of
    everything Stripe said.
    """
    handled = event["type"] in HANDLED_EVENTS
    stripe_id = str(event["id"])[:100]
    try:
        # Insert first: a new event (nearly all of them) is one INSERT and the commit, as the
        # floor write of bench/webhook_ingest.py; only a redelivery pays for the refused insert
        # and the read (get_or_create read first and wrapped the insert in a savepoint).
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                stripe_id=stripe_id,
                type=str(event["type"])[:100],
                payload=event,
                status=WebhookEvent.Status.PENDING if handled else WebhookEvent.Status.IGNORED,
            )
            if stored.status == WebhookEvent.Status.PENDING:
                # Once, when stored. With the broker down the event stays pending in the table
                # and the sweep queues it; a failed one retries on its own backoff.
                process_webhook_event.delay(stored.pk)
        created = True
    except IntegrityError:
        stored, created = WebhookEvent.objects.get(stripe_id=stripe_id), False
    if not created:
        logger.info("Webhook event %s received again", stored.stripe_id)
    elif event.get("api_version") and event["api_version"] != settings.STRIPE_API_VERSION:
        logger.warning(
            "Webhook event %s is rendered at API version %s, not %s: register the endpoint at "
            "STRIPE_API_VERSION (README)",
            stored.stripe_id,
            event["api_version"],
            settings.STRIPE_API_VERSION,
        )
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
        if problem := gateway.event_problem(event.payload):
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
    object_id = obj.get("id") if isinstance(obj, dict) else None
    if not object_id:
        return WebhookEvent.Status.IGNORED
    try:
        if event.type in PAYMENT_INTENT_EVENTS:
            order = _sync_intent(obj)
        elif event.type in CHARGE_REFUND_EVENTS:
            intent_id = obj.get("payment_intent")
            order = sync_refunds(payment_intent_id=intent_id) if intent_id else None
        elif event.type in REFUND_EVENTS:
            order = sync_refund(refund_id=object_id)
        elif event.type in DISPUTE_EVENTS:
            order = sync_dispute(dispute_id=object_id)
        else:
            return WebhookEvent.Status.IGNORED
    except gateway.NotFound:
        order = None  # Stripe has no such object for us: retrying cannot help
    if order is None:
        logger.warning("Webhook %s names no payment of ours (%s)", event.stripe_id, object_id)
        return WebhookEvent.Status.IGNORED
    return WebhookEvent.Status.PROCESSED


def _sync_intent(obj: dict) -> Order | None:
    """A PaymentIntent event: sync the attempt it belongs to; adopt it if its id was never
    recorded; refund it if it carries our order number but is not the order's payment."""
    intent_id = obj["id"]
    payment = Payment.objects.filter(stripe_payment_intent=intent_id).first()
    if payment is None:
        payment = _adopt_unrecorded_intent(obj)
    if payment is not None:
        return sync_payment(payment=payment)
    number = (obj.get("metadata") or {}).get("order")
    order = Order.objects.filter(number=str(number)).first() if number else None
    if order is not None:
        refund_duplicate_charge(order=order, payment_intent_id=intent_id)
    return order


def _adopt_unrecorded_intent(obj: dict) -> Payment | None:
    """A PaymentIntent created for one of our orders whose id we never stored.

    ``confirm_order`` records the id after Stripe answered; if that answer was lost (a timeout,
    a killed process), the charge exists and only its metadata knows the order. Attach it to
    the unpaid attempt whose card it used, then sync. An order already paid adopts nothing:
    that charge is a duplicate.
    """
    number = (obj.get("metadata") or {}).get("order")
    intent_id, card = obj.get("id"), obj.get("payment_method")
    if not number or not intent_id:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(number=str(number)).first()
        if order is None or order.status not in (
            S.DETAILS_ENTERED,
            S.AWAITING_PAYMENT,
            S.REQUIRES_ACTION,
            S.PAYMENT_FAILED,
        ):
            return None
        candidates = order.payments.filter(
            stripe_payment_intent=None, status=Payment.Status.CARD_ADDED
        ).order_by("-attempt")
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
    """Stripe event → re-read its object → follow it. Failures retry with backoff."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return "missing"
    return handle_webhook_event(event=event).status
