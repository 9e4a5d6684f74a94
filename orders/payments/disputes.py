"""Disputes (DESIGN 5.8): a card holder disputes one of our payments with their bank.

``charge.dispute.*`` events are triggers: the dispute is re-read from Stripe and stored. A new
dispute flags the order for the operator (admin: "needs attention", "dispute"); a dispute closed
as ``lost`` takes the extension back through the ledger (``DISPUTE_LOST``), once, like a refund.
"""

from __future__ import annotations

import logging

from django.db import transaction

from licenses.models import LicenseEvent
from orders.models import Dispute, Order, Payment

from . import gateway
from .flags import flag_for_operator
from .refunds import reverse_order

logger = logging.getLogger(__name__)
S = Order.Status


def sync_dispute(*, dispute_id: str) -> Order | None:
    """Re-read a dispute and move its order; ``None`` when it is about no payment of ours."""
    state = gateway.retrieve_dispute(dispute_id=dispute_id)
    payment = (
        Payment.objects.filter(stripe_payment_intent=state.payment_intent_id).first()
        if state.payment_intent_id
        else None
    ) or (
        Payment.objects.filter(stripe_charge=state.charge_id).first() if state.charge_id else None
    )
    if payment is None:
        logger.warning("Dispute %s names no payment of ours", state.id)
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        dispute, created = Dispute.objects.get_or_create(
            stripe_id=state.id,
            defaults={"order": order, "amount": state.amount, "status": state.status},
        )
        changed = created or dispute.status != state.status
        dispute.stripe_charge = state.charge_id or ""
        dispute.amount, dispute.currency = state.amount, state.currency
        dispute.status, dispute.reason = state.status, state.reason[:50]
        dispute.save()
        if changed:
            flag_for_operator(
                order=order,
                reason=Order.Attention.DISPUTED,
                note=f"Dispute {state.id} ({state.reason or '?'}) of ¥{state.amount:,}: "
                f"{state.status}.",
            )
        if state.status == Dispute.LOST and order.status in (S.PAID, S.FULFILLED):
            reverse_order(order=order, payment=payment, kind=LicenseEvent.Kind.DISPUTE_LOST)
    return order
