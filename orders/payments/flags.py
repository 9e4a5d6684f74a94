"""Orders an operator must look at (admin filter "needs attention"): money that does not match,
a duplicate charge refunded automatically, a refund that failed, a dispute."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from orders.models import Order


def flag_for_operator(*, order: Order, reason: str, note: str) -> None:
    """Flag a locked order; each note is kept, with its time, below the earlier ones."""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    order.attention = reason
    order.attention_note = "\n".join(filter(None, [order.attention_note, f"{stamp} {note}"]))
    order.save(update_fields=["attention", "attention_note", "updated_at"])


def clear_flag(*, order: Order) -> Order:
    """The operator has handled it: the flag goes, the notes stay."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.attention:
            order.attention = ""
            order.save(update_fields=["attention", "updated_at"])
    return order
