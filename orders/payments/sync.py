"""The one "sync this payment from Stripe" service (DESIGN 5.4, 5.5, 5.7, 6).

The customer's return from 3-D Secure, the webhook and the reconciliation sweep all call
``sync_payment``: whichever comes first moves the order, the others find it done (and, if the
order is paid but still not extended, queue its extension again). Events are only triggers; the
PaymentIntent as Stripe returns it decides. Stripe is read before any row is locked.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.fulfilment import fulfil_order, nudge_fulfilment
from orders.mail import send_order_mail
from orders.models import Order, Payment

from . import gateway
from .cards import settle_payment_card
from .duplicates import refund_duplicate
from .flags import flag_for_operator
from .refunds import sync_refunds

S = Order.Status


def sync_payment(*, payment: Payment) -> Order:
    """Read the attempt's PaymentIntent once and move payment and order to what it says.

    Safe to call any number of times from anywhere. Money refunded on the charge is followed
    through the refunds themselves (``refunds.sync_refunds``): only succeeded ones count.
    """
    if not payment.stripe_payment_intent:
        return payment.order
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        apply_intent(order=order, payment=payment, intent=intent)
    if intent.amount_refunded:
        return sync_refunds(payment_intent_id=intent.id) or order
    return order


def apply_intent(*, order: Order, payment: Payment, intent: gateway.IntentState) -> None:
    """Move payment and order to what the PaymentIntent says. Caller holds the order lock.

    A payment that succeeded is never undone by a later failure report for the same or an
    older attempt (events arrive late and out of order). The order is paid only when the
    PaymentIntent's amount and currency are the order's (DESIGN 5.5).
    """
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        nudge_fulfilment(order=order)  # paid long ago, still not extended: its task may be lost
        return
    if payment.status == Payment.Status.DUPLICATE:
        return
    if intent.succeeded:
        _succeeded(order, payment, intent)
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
        settle_payment_card.delay(payment.pk)
        # A late failure report for an older attempt says nothing about the current one.
        if latest and order.status in (S.AWAITING_PAYMENT, S.REQUIRES_ACTION, S.DETAILS_ENTERED):
            order.status = S.PAYMENT_FAILED
            order.save(update_fields=["status", "updated_at"])
            if order.is_automatic:
                return  # the automatic-renewal service mails its own failure notices
            send_order_mail.delay(
                order.pk,
                "payment_failed",
                f"payment_failed:{payment.attempt}",
                {"attempt": payment.attempt},
            )


def _succeeded(order: Order, payment: Payment, intent: gateway.IntentState) -> None:
    if order.status in (S.PAID, S.FULFILLED, S.REFUNDED, S.CANCELED):
        # Another attempt paid already, or the order was given up: this charge is a duplicate.
        payment.status = Payment.Status.DUPLICATE
        payment.stripe_charge = intent.charge_id or ""
        payment.save(update_fields=["status", "stripe_charge", "updated_at"])
        refund_duplicate.delay(order.pk, intent.id)
        return
    payment.status = Payment.Status.SUCCEEDED
    payment.stripe_charge = intent.charge_id or ""
    payment.failure_code = payment.failure_message = ""
    payment.save(
        update_fields=["status", "stripe_charge", "failure_code", "failure_message", "updated_at"]
    )
    if (intent.amount, intent.currency) == (order.amount, gateway.CURRENCY):
        mark_paid(order=order)
    else:
        # Never extend for money that is not the order's price; an operator decides.
        flag_for_operator(
            order=order,
            reason=Order.Attention.AMOUNT_MISMATCH,
            note=f"PaymentIntent {intent.id} is {intent.amount} {intent.currency}, "
            f"the order {order.amount} {gateway.CURRENCY}: not marked paid.",
        )
    settle_payment_card.delay(payment.pk)  # after the extension: it may wait


def mark_paid(*, order: Order) -> None:
    """paid: the money is ours; the extension is handed to a worker once this commits."""
    if order.status in (S.PAID, S.FULFILLED, S.REFUNDED):
        return
    order.status = S.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at", "updated_at"])
    fulfil_order.delay(order.pk)
    if not order.is_automatic:  # an automatic renewal gets one mail, once extended
        send_order_mail.delay(order.pk, "order_completed")
