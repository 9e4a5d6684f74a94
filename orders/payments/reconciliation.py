"""Reconciliation (DESIGN 6): catch what webhooks and lost tasks missed, and tidy up.

localstripe sends each event once and real Stripe may be late, a broker may be down when a task
is queued, a worker may be killed mid-task. Every few minutes (beat, ``manage.py
reconcile_payments``, the admin's "Reprocess") this sweep finds such work in the database and
does it again; every step is idempotent, so overlapping runs do no harm. It also cancels orders
left in draft or at the details step for ``STALE_ORDER_HOURS`` (issue 9, point 8).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.fulfilment import fulfil_order
from orders.mail import send_order_mail
from orders.models import Order, Payment, WebhookEvent
from orders.selectors import OPEN_FOR_DETAILS, STUCK_FOR_AT_MOST, stuck_orders
from orders.services import cancel_order, release_claim

from .cards import SETTLED, settle_payment_card
from .sync import sync_payment
from .webhooks import process_webhook_event

logger = logging.getLogger(__name__)
S = Order.Status
BATCH = 200


@dataclass
class ReconcileReport:
    orders_synced: int = 0
    orders_requeued: int = 0
    events_requeued: int = 0
    mails_requeued: int = 0
    cards_requeued: int = 0
    claims_released: int = 0
    orders_canceled: int = 0
    errors: int = 0


def reconcile_payments(*, older_than: dt.timedelta | None = None) -> ReconcileReport:
    """Re-queue unfinished work untouched for ``older_than`` and re-read half-way payments.

    Paid orders not yet extended are queued for fulfilment again; stored events still
    unprocessed are queued again; mails whose task was lost are queued again; orders stuck in
    awaiting payment or 3-D Secure are re-read from Stripe one by one.
    """
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    stuck = stuck_orders(cutoff=cutoff)
    report = ReconcileReport()

    # The cheap, most important steps first: nothing below may starve them.
    for order_id in Order.objects.filter(stuck["extension"]).values_list("pk", flat=True)[:BATCH]:
        fulfil_order.delay(order_id)
        report.orders_requeued += 1
    for event_id in WebhookEvent.objects.filter(
        status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED],
        received_at__lt=cutoff,
    ).values_list("pk", flat=True)[:BATCH]:
        process_webhook_event.delay(event_id)
        report.events_requeued += 1
    report.mails_requeued = _requeue_missing_mails(cutoff)
    for payment_id in Payment.objects.filter(
        status__in=SETTLED, card_settled_at=None, updated_at__lt=cutoff
    ).values_list("pk", flat=True)[:BATCH]:
        settle_payment_card.delay(payment_id)
        report.cards_requeued += 1

    # A confirmation that claimed its attempt but never recorded Stripe's answer (the process
    # died): release it; a PaymentIntent created meanwhile is adopted from its webhook.
    for order in Order.objects.filter(stuck["claimed"])[:BATCH]:
        report.claims_released += int(release_claim(order=order))

    # Orders half-way through a payment, re-read one by one. An order is touched after its
    # re-read, so abandoned 3-D Secure challenges take turns instead of filling every batch.
    for order in Order.objects.filter(stuck["payment"]).distinct().order_by("updated_at")[:BATCH]:
        payment = order.payments.exclude(stripe_payment_intent=None).order_by("-attempt").first()
        try:
            if payment is not None:
                sync_payment(payment=payment)
                report.orders_synced += 1
        except Exception:  # one bad order must not stop the sweep
            logger.warning("Reconciliation could not sync order %s", order.number, exc_info=True)
            report.errors += 1
        Order.objects.filter(pk=order.pk, updated_at__lt=cutoff).update(updated_at=timezone.now())

    stale = timezone.now() - dt.timedelta(hours=settings.STALE_ORDER_HOURS)
    # An automatic renewal's order waits days between its retries (and for the customer's
    # 3-D Secure): its own schedule decides, never staleness.
    for order in (
        Order.objects.filter(status__in=OPEN_FOR_DETAILS, updated_at__lt=stale)
        .exclude(kind=Order.Kind.AUTOMATIC)
        .order_by("updated_at")[:BATCH]
    ):
        try:
            cancel_order(order=order)
            report.orders_canceled += 1
        except Exception:  # one bad order must not stop the sweep
            logger.warning("Reconciliation could not cancel order %s", order.number, exc_info=True)
            report.errors += 1
    return report


def _requeue_missing_mails(cutoff: dt.datetime) -> int:
    """Mails whose task was lost (broker down at commit): queue them again (T7, T8)."""
    recent = timezone.now() - STUCK_FOR_AT_MOST
    wanted = [
        # An automatic renewal's one mail is "license_extended".
        ("order_completed", Q(status__in=[S.PAID, S.FULFILLED, S.REFUNDED], paid_at__lt=cutoff, paid_at__gt=recent, kind=Order.Kind.CHECKOUT)),
        ("license_extended", Q(status=S.FULFILLED, fulfilled_at__lt=cutoff, fulfilled_at__gt=recent)),
        ("refund_done", Q(status=S.REFUNDED, refunded_at__lt=cutoff, refunded_at__gt=recent)),
    ]  # fmt: skip
    queued = 0
    for template, condition in wanted:
        missing = (
            Order.objects.filter(condition)
            .exclude(sent_mails__key=template)
            .values_list("pk", flat=True)[:BATCH]
        )
        for order_id in missing:
            send_order_mail.delay(order_id, template)
            queued += 1
    return queued


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def run_reconciliation() -> dict:
    """Periodic (beat): re-read stuck orders, re-queue unfinished work (DESIGN 6)."""
    return vars(reconcile_payments())
