"""Payment clearing (DESIGN 5.5–5.7, 6): webhook events, reconciliation and refunds.

Events are triggers, never the truth: processing re-reads the PaymentIntent from Stripe and
calls the same ``sync_payment`` service as the customer's return. Nothing is lost when a part
fails: an event is stored and committed before anything else, and a periodic sweep re-queues
what was not processed and re-reads orders that stopped half-way.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from licenses.models import License, LicenseEvent
from licenses.services import record_license_change

from . import services
from .models import Order, Payment, WebhookEvent
from .payments import gateway

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


class RefundError(Exception):
    """The order cannot be refunded; ``str(error)`` is for the operator."""


# --- Webhook events ---------------------------------------------------------------------------------


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
            services.queue_task_on_commit("process_webhook_event", stored.pk)
    if not created:
        logger.info("Webhook event %s received again", stored.stripe_id)
    return stored


def process_webhook_event(*, event: WebhookEvent) -> WebhookEvent:
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
    sync_payment_and_refund(payment=payment)
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


def sync_payment_and_refund(*, payment: Payment) -> Order:
    """``sync_payment``, plus the refund a re-read PaymentIntent may show."""
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    if intent.refunded:
        return apply_refund(payment=payment, refund_id="")
    return services.sync_payment(payment=payment)


# --- Reconciliation ------------------------------------------------------------------------------


BATCH = 200
STUCK_FOR_AT_MOST = dt.timedelta(days=7)


@dataclass
class ReconcileReport:
    orders_synced: int = 0
    orders_requeued: int = 0
    events_requeued: int = 0
    mails_requeued: int = 0
    errors: int = 0


def reconcile_payments(*, older_than: dt.timedelta | None = None) -> ReconcileReport:
    """Catch what webhooks missed (localstripe sends each once, real Stripe may be late).

    Orders stuck in awaiting payment or 3-D Secure are re-read from Stripe one by one; paid
    orders not yet extended are queued for fulfilment again; stored events still unprocessed are
    queued again. Every step is idempotent, so overlapping runs do no harm.
    """
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    report = ReconcileReport()
    from .tasks import fulfil_order, process_webhook_event

    # The cheap, most important steps first: nothing below may starve them.
    for order_id in Order.objects.filter(status=S.PAID, paid_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:BATCH]:
        fulfil_order.delay(order_id)
        report.orders_requeued += 1
    for event_id in WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED],
        received_at__lt=cutoff,
    ).values_list("pk", flat=True)[:BATCH]:
        process_webhook_event.delay(event_id)
        report.events_requeued += 1
    report.mails_requeued = _requeue_missing_mails(cutoff)

    # Orders half-way through a payment, re-read one by one. An order is touched after its
    # re-read, so abandoned 3-D Secure challenges take turns instead of filling every batch;
    # after STUCK_FOR_AT_MOST nobody is waiting any more and Stripe has given up on them too.
    half_way = Q(status__in=[S.AWAITING_PAYMENT, S.REQUIRES_ACTION]) | Q(
        # A late failure report may have hidden a newer attempt that is still in progress.
        status=S.PAYMENT_FAILED,
        payments__status__in=[Payment.Status.REQUIRES_ACTION, Payment.Status.PROCESSING],
    )
    stuck = (
        Order.objects.filter(half_way, updated_at__lt=cutoff)
        .filter(updated_at__gt=timezone.now() - STUCK_FOR_AT_MOST)
        .distinct()
        .order_by("updated_at")[:BATCH]
    )
    for order in stuck:
        payment = order.payments.exclude(stripe_payment_intent=None).order_by("-attempt").first()
        try:
            if payment is not None:
                sync_payment_and_refund(payment=payment)
                report.orders_synced += 1
        except Exception:  # one bad order must not stop the sweep
            logger.warning("Reconciliation could not sync order %s", order.number, exc_info=True)
            report.errors += 1
        Order.objects.filter(pk=order.pk, updated_at__lt=cutoff).update(updated_at=timezone.now())
    return report


def _requeue_missing_mails(cutoff: dt.datetime) -> int:
    """Mails whose task was lost (broker down at commit): queue them again (T7, T8)."""
    from . import tasks

    recent = timezone.now() - STUCK_FOR_AT_MOST
    wanted = [
        ("order_completed", "send_order_completed_mail", Q(status__in=[S.PAID, S.FULFILLED, S.REFUNDED], paid_at__lt=cutoff, paid_at__gt=recent)),
        ("license_extended", "send_license_extended_mail", Q(status=S.FULFILLED, fulfilled_at__lt=cutoff, fulfilled_at__gt=recent)),
        ("refund_done", "send_refund_mail", Q(status=S.REFUNDED, refunded_at__lt=cutoff, refunded_at__gt=recent)),
    ]  # fmt: skip
    queued = 0
    for key, task_name, condition in wanted:
        missing = (
            Order.objects.filter(condition)
            .exclude(sent_mails__key=key)
            .values_list("pk", flat=True)[:BATCH]
        )
        for order_id in missing:
            getattr(tasks, task_name).delay(order_id)
            queued += 1
    return queued


# --- Refunds -----------------------------------------------------------------------------------------


def refund_order(*, order: Order, actor=None) -> Order:
    """Refund a paid or extended order through Stripe, once.

    The order row is locked around the refund call and the refund id recorded with it, so a
    second click finds the refund done (localstripe would refund again: it ignores
    Idempotency-Key). The reversal takes effect from the API's answer; the later
    ``charge.refunded`` webhook finds it done.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == S.REFUNDED:
            return order
        if order.status not in (S.PAID, S.FULFILLED):
            raise RefundError(
                f"Order {order.number} is {order.status}: only paid orders are refunded."
            )
        payment = order.payments.filter(status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise RefundError(f"Order {order.number} has no successful payment.")
        refund = gateway.refund_payment(
            payment_intent_id=payment.stripe_payment_intent,
            idempotency_key=f"refund-{order.number}",
        )
        return _reverse(order=order, payment=payment, refund_id=refund.id, actor=actor)


def apply_refund(*, payment: Payment, refund_id: str, actor=None) -> Order:
    """A refund Stripe reports (webhook or reconciliation): reverse the order once."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        if order.status == S.REFUNDED:
            return order
        return _reverse(order=order, payment=payment, refund_id=refund_id, actor=actor)


def _reverse(*, order: Order, payment: Payment, refund_id: str, actor) -> Order:
    """Mark refunded and, if the license was extended, add the reversing ledger row.

    History is never edited: the reversal is a new row taking back what the extension added and
    the product back after an upgrade. Caller holds the order lock.
    """
    payment.status = Payment.Status.REFUNDED
    payment.stripe_refund = refund_id or payment.stripe_refund
    payment.save(update_fields=["status", "stripe_refund", "updated_at"])
    extension = LicenseEvent.objects.filter(
        order=order, kind__in=[LicenseEvent.Kind.RENEWED, LicenseEvent.Kind.UPGRADED]
    ).first()
    if (
        extension
        and not LicenseEvent.objects.filter(order=order, kind=LicenseEvent.Kind.REFUNDED).exists()
    ):
        license = License.objects.select_for_update().get(pk=order.license_id)
        # Take back exactly what the extension added (K10 may have started it from the payment
        # day, after a lapse), not a calendar term.
        added = extension.new_expires_on - extension.old_expires_on
        record_license_change(
            license=license,
            kind=LicenseEvent.Kind.REFUNDED,
            new_expires_on=license.expires_on - added,
            new_product=order.from_product if license.product_id == order.product_id else None,
            order=order,
            actor=actor,
            note=order.number,
        )
    order.status = S.REFUNDED
    order.refunded_at = timezone.now()
    order.save(update_fields=["status", "refunded_at", "updated_at"])
    services.queue_task_on_commit("send_refund_mail", order.pk)
    return order
