"""The one "sync this payment from Stripe" service (DESIGN 5.4, 5.7, 6).

The customer's return from 3-D Secure, the webhook and the reconciliation sweep all call
``sync_payment``: whichever comes first moves the order, the others find it done. Events are only
triggers; the PaymentIntent as Stripe returns it decides.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.fulfilment import fulfil_order
from orders.mail import send_order_mail
from orders.models import Order, Payment

from . import gateway
from .refunds import apply_refund

S = Order.Status


def sync_payment(*, payment: Payment) -> Order:
    """Read the attempt's PaymentIntent once and move payment and order to what it says.

    Safe to call any number of times from anywhere. A PaymentIntent whose charge was refunded
    in full reverses the order (``refunds.apply_refund``).
    """
    if not payment.stripe_payment_intent:
        return payment.order
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    if intent.refunded:
        return apply_refund(payment=payment, refund_id="")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        apply_intent(order=order, payment=payment, intent=intent)
    return order


def apply_intent(*, order: Order, payment: Payment, intent: gateway.IntentState) -> None:
    """Move payment and order to what the PaymentIntent says. Caller holds the order lock.

    A payment that succeeded is never undone by a later failure report for the same or an
    older attempt (events arrive late and out of order).
    """
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        return
    if intent.succeeded:
        payment.status = Payment.Status.SUCCEEDED
        payment.stripe_charge = intent.charge_id or ""
        payment.failure_code = payment.failure_message = ""
        payment.save(
            update_fields=["status", "stripe_charge", "failure_code", "failure_message",
                           "updated_at"]
        )  # fmt: skip
        mark_paid(order=order)
        return
    if intent.requires_action:
        payment.status = Payment.Status.REQUIRES_ACTION
        payment.save(update_fields=["status", "updated_at"])
        if order.status == S.AWAITING_PAYMENT:
            order.status = S.REQUIRES_ACTION
            order.save(update_fields=["status", "updated_at"])
        return
    if intent.status == "processing":
        payment.status = Payment.Status.PROCESSING
        payment.save(update_fields=["status", "updated_at"])
        return
    if intent.status in ("requires_payment_method", "canceled"):
        latest = payment.attempt == (
            order.payments.order_by("-attempt").values_list("attempt", flat=True).first()
        )
        payment.status = Payment.Status.FAILED
        payment.failure_code = (intent.failure_code or intent.status)[:100]
        payment.failure_message = (
            intent.failure_message or _("The payment was not completed. Please try another card.")
        )[:500]
        payment.save(update_fields=["status", "failure_code", "failure_message", "updated_at"])
        # A late failure report for an older attempt says nothing about the current one.
        if latest and order.status in (S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.DETAILS_ENTERED):
            order.status = S.PAYMENT_FAILED
            order.save(update_fields=["status", "updated_at"])
            send_order_mail.delay(
                order.pk,
                "payment_failed",
                f"payment_failed:{payment.attempt}",
                {"attempt": payment.attempt},
            )


def mark_paid(*, order: Order) -> None:
    """paid: the money is ours; the extension is handed to a worker once this commits."""
    if order.status in (S.PAID, S.FULFILLED, S.REFUNDED):
        return
    order.status = S.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at", "updated_at"])
    fulfil_order.delay(order.pk)
    send_order_mail.delay(order.pk, "order_completed")
