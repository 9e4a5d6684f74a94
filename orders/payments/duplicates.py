"""Charges that carry our order number but are not the order's payment (issue 9, point 13).

A retried request during a Stripe stall (localstripe ignores Idempotency-Key), a 3-D Secure
challenge completed late on an attempt the customer had left, a payment of an order canceled
meanwhile: the money was taken twice, or for nothing. Such a succeeded PaymentIntent is refunded
automatically, as Saleor does with its orphan payments, and the order is flagged so an operator
sees what happened. The refund is claimed in the database first (one per PaymentIntent), so
concurrent events refund once.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction

from config.celery import RETRY_WITH_BACKOFF
from orders.models import Order, Payment, Refund

from . import gateway
from .flags import flag_for_operator
from .refunds import record_refund

logger = logging.getLogger(__name__)
S = Order.Status


def is_the_orders_payment(order: Order, payment_intent_id: str) -> bool:
    """Whether this PaymentIntent is the one that pays (or paid) the order."""
    return order.payments.filter(
        stripe_payment_intent=payment_intent_id,
        status__in=[Payment.Status.SUCCEEDED, Payment.Status.REFUNDED],
    ).exists()


def refund_duplicate_charge(*, order: Order, payment_intent_id: str) -> Refund | None:
    """Refund a succeeded PaymentIntent of ``order`` that is not its payment. Idempotent."""
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment_intent_id)
    if not intent.succeeded or intent.order_number != order.number:
        return None
    if order.status not in (S.CANCELED,) and is_the_orders_payment(order, intent.id):
        return None
    try:
        with transaction.atomic():
            claim = Refund.objects.create(
                order=order,
                stripe_payment_intent=intent.id,
                amount=intent.amount,
                currency=intent.currency,
                reason=Refund.Reason.DUPLICATE,
            )
    except IntegrityError:
        return None  # refunded (or being refunded) already
    try:
        state = gateway.refund_payment(
            payment_intent_id=intent.id,
            idempotency_key=f"duplicate-{intent.id}",
            duplicate=True,
            order_number=order.number,
        )
    except gateway.PaymentError:
        claim.delete()  # let the retry claim it again (same Idempotency-Key at Stripe)
        raise
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        row = record_refund(order=locked, state=state, claim=claim)
        Payment.objects.filter(stripe_payment_intent=intent.id).exclude(
            status=Payment.Status.SUCCEEDED
        ).update(status=Payment.Status.DUPLICATE)
        flag_for_operator(
            order=locked,
            reason=Order.Attention.DUPLICATE_REFUNDED,
            note=f"PaymentIntent {intent.id} of ¥{intent.amount:,} was not this order's payment; "
            f"refunded automatically ({state.id}, {state.status}).",
        )
    logger.warning("Order %s: refunded duplicate charge %s", order.number, intent.id)
    return row


@shared_task(**RETRY_WITH_BACKOFF)
def refund_duplicate(order_id: int, payment_intent_id: str) -> str:
    """Refund a charge that is not the order's payment (see ``refund_duplicate_charge``)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return "missing"
    refund = refund_duplicate_charge(order=order, payment_intent_id=payment_intent_id)
    return refund.status if refund else "nothing to refund"
