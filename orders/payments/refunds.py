"""Refunds (DESIGN 5.8, 6): an operator's refund through Stripe, and refunds Stripe reports.

Every refund Stripe tells us about is a ``Refund`` row (unique Stripe id), whoever made it: the
admin action, Stripe's dashboard, the automatic refund of a duplicate charge. The order follows
what they say, once: only refunds that ``succeeded`` count; when they cover the payment the
extension is taken back by a new ledger row and the order is refunded; a partial refund is
recorded and shown, never reversed; a failed refund flags the order and changes nothing else.
A pending refund waits for ``refund.updated`` / ``charge.refund.updated``. localstripe sends no
refund events of its own (the shim adds them): the refund call's answer is read as well.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import License, LicenseEvent
from licenses.services import record_license_change
from orders.mail import send_order_mail
from orders.models import Order, Payment, Refund

from . import gateway
from .flags import flag_for_operator

S = Order.Status
R = Refund.Status
REVERSALS = [LicenseEvent.Kind.REFUNDED, LicenseEvent.Kind.DISPUTE_LOST]
# Refunds that hold (part of) the payment's amount: a new one may only take the rest.
_UNDER_WAY = [R.REQUESTED, R.PENDING, R.REQUIRES_ACTION, R.SUCCEEDED]


class RefundError(Exception):
    """The order cannot be refunded; ``str(error)`` is for the operator, in their language."""


def refund_order(*, order: Order, actor=None) -> Refund | None:
    """Refund what is left of a paid order's payment through Stripe, once.

    The refund is claimed first (a ``Refund`` row in ``requested``, committed), Stripe is called
    outside any transaction, then its answer is recorded: ``succeeded`` reverses the order now,
    ``pending`` waits for Stripe's event, ``failed`` flags the order. A second click finds the
    refund under way (localstripe would refund again: it ignores Idempotency-Key). Returns
    ``None`` when the order was already refunded.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == S.REFUNDED:
            return None
        if order.status not in (S.PAID, S.FULFILLED):
            raise RefundError(
                _("Order %(number)s is “%(status)s”: only paid orders can be refunded.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        payment = order.payments.filter(status=Payment.Status.SUCCEEDED).first()
        if payment is None:
            raise RefundError(
                _("Order %(number)s has no successful payment.") % {"number": order.number}
            )
        refunds = order.refunds.filter(stripe_payment_intent=payment.stripe_payment_intent)
        if refunds.filter(
            reason=Refund.Reason.OPERATOR, status__in=[R.REQUESTED, R.PENDING, R.REQUIRES_ACTION]
        ).exists():
            raise RefundError(
                _("A refund of order %(number)s is already under way.") % {"number": order.number}
            )
        remaining = payment.amount - sum(r.amount for r in refunds if r.status in _UNDER_WAY)
        if remaining <= 0:
            raise RefundError(
                _("Order %(number)s has nothing left to refund.") % {"number": order.number}
            )
        claim = Refund.objects.create(
            order=order,
            stripe_payment_intent=payment.stripe_payment_intent,
            amount=remaining,
            reason=Refund.Reason.OPERATOR,
            actor=actor,
        )
    try:
        state = gateway.refund_payment(
            payment_intent_id=payment.stripe_payment_intent,
            idempotency_key=f"refund-{order.number}-{claim.pk}",
            amount=remaining,
            order_number=order.number,
        )
    except gateway.PaymentError as error:
        Refund.objects.filter(pk=claim.pk).update(
            status=R.FAILED, failure_reason=(error.code or "error")[:200]
        )
        raise RefundError(
            _("Stripe did not refund order %(number)s: %(reason)s")
            % {"number": order.number, "reason": error.message}
        ) from error
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        row = record_refund(order=locked, state=state, claim=claim)
    apply_refunds(order=order, actor=actor)
    row.refresh_from_db()
    return row


def sync_refund(*, refund_id: str) -> Order | None:
    """A refund event (``refund.*``, ``charge.refund.updated``): re-read it and follow it."""
    state = gateway.retrieve_refund(refund_id=refund_id)
    return _follow(payment_intent_id=state.payment_intent_id, states=[state])


def sync_refunds(*, payment_intent_id: str) -> Order | None:
    """``charge.refunded`` or a sync that saw money refunded: read every refund of the payment
    (those made in Stripe's dashboard included) and follow them."""
    states = gateway.list_refunds(payment_intent_id=payment_intent_id)
    return _follow(payment_intent_id=payment_intent_id, states=states)


def _follow(*, payment_intent_id: str | None, states: list[gateway.RefundState]) -> Order | None:
    order = _order_of(payment_intent_id, [state.id for state in states])
    if order is None:
        return None
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        for state in states:
            record_refund(order=locked, state=state)
    return apply_refunds(order=order)


def _order_of(payment_intent_id: str | None, refund_ids: list[str]) -> Order | None:
    refund = Refund.objects.filter(stripe_id__in=refund_ids).select_related("order").first()
    if refund is not None:
        return refund.order
    if not payment_intent_id:
        return None
    payment = Payment.objects.filter(stripe_payment_intent=payment_intent_id).first()
    if payment is not None:
        return payment.order
    refund = Refund.objects.filter(stripe_payment_intent=payment_intent_id).first()
    return refund.order if refund is not None else None


def record_refund(
    *,
    order: Order,
    state: gateway.RefundState,
    claim: Refund | None = None,
    reason: str = Refund.Reason.STRIPE,
) -> Refund:
    """Store what Stripe says about one refund of ``order`` (caller holds the order lock).

    A refund we did not make (Stripe's dashboard) is stored with its id on first sight. A
    refund that turns ``failed`` flags the order for the operator and changes nothing else.
    """
    existing = Refund.objects.filter(stripe_id=state.id).first()
    if claim is not None and existing is not None and existing.pk != claim.pk:
        # Its event was faster than the answer to our call: one row, ours.
        existing.reason, existing.actor = claim.reason, claim.actor
        claim.delete()
        row = existing
    elif claim is not None:
        row = Refund.objects.get(pk=claim.pk)
    else:
        row = existing or Refund(
            order=order,
            stripe_payment_intent=state.payment_intent_id or "",
            reason=reason,
        )
    newly_failed = state.status == R.FAILED and row.status != R.FAILED
    row.stripe_id = state.id
    row.status = state.status if state.status in R.values else row.status
    row.amount = state.amount
    row.currency = state.currency
    row.failure_reason = state.failure_reason[:200]
    row.save()
    if newly_failed:
        flag_for_operator(
            order=order,
            reason=Order.Attention.REFUND_FAILED,
            note=f"Refund {state.id} of ¥{state.amount:,} failed ({state.failure_reason or '?'}).",
        )
    return row


def apply_refunds(*, order: Order, actor=None) -> Order:
    """Move the order to what its payment's refunds say (see the module docstring)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = order.payments.filter(
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.REFUNDED]
        ).first()
        if payment is None:
            return order
        refunded = sum(
            refund.amount
            for refund in order.refunds.filter(
                stripe_payment_intent=payment.stripe_payment_intent, status=R.SUCCEEDED
            )
        )
        if refunded != order.amount_refunded:
            order.amount_refunded = refunded
            order.save(update_fields=["amount_refunded", "updated_at"])
        if refunded >= payment.amount and order.status in (S.PAID, S.FULFILLED):
            reverse_order(
                order=order, payment=payment, kind=LicenseEvent.Kind.REFUNDED, actor=actor
            )
            send_order_mail.delay(order.pk, "refund_done")
    return order


def reverse_order(*, order: Order, payment: Payment, kind: str, actor=None) -> None:
    """Mark the order refunded and, if the license was extended, add the reversing ledger row.

    Caller holds the order lock. History is never edited: the extension stays in the ledger and
    a new row takes back exactly what it added (K10 may have started it from the payment day).
    """
    payment.status = Payment.Status.REFUNDED
    payment.save(update_fields=["status", "updated_at"])
    extension = LicenseEvent.objects.filter(
        order=order, kind__in=[LicenseEvent.Kind.RENEWED, LicenseEvent.Kind.UPGRADED]
    ).first()
    if extension and not LicenseEvent.objects.filter(order=order, kind__in=REVERSALS).exists():
        license = License.objects.select_for_update().get(pk=order.license_id)
        added = extension.new_expires_on - extension.old_expires_on
        record_license_change(
            license=license,
            kind=kind,
            new_expires_on=license.expires_on - added,
            new_product=order.from_product if license.product_id == order.product_id else None,
            order=order,
            actor=actor,
            note=order.number,
        )
    order.status = S.REFUNDED
    order.refunded_at = timezone.now()
    order.save(update_fields=["status", "refunded_at", "updated_at"])
