"""Refunds (DESIGN 5.8, 6): an operator's refund through Stripe, and refunds Stripe reports.

Either way the order is reversed once: the payment and the order are marked refunded and, if the
license was extended, a new ledger row takes the extension back. History is never edited.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from licenses.models import License, LicenseEvent
from licenses.services import record_license_change
from orders.mail import send_order_mail
from orders.models import Order, Payment

from . import gateway

S = Order.Status


class RefundError(Exception):
    """The order cannot be refunded; ``str(error)`` is for the operator."""


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

    Caller holds the order lock.
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
    send_order_mail.delay(order.pk, "refund_done")
    return order
