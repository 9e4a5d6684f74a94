"""Reads about orders: a customer's history, an order's step in the checkout, stuck orders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Order, Payment, SavedCard

S = Order.Status

# Orders in these states may still take a (new) card and be confirmed.
OPEN_FOR_DETAILS = (S.DRAFT, S.DETAILS_ENTERED, S.PAYMENT_FAILED)
# After this long nobody waits for a payment any more, and Stripe has given up on it too.
STUCK_FOR_AT_MOST = dt.timedelta(days=7)


def customer_orders(*, user) -> QuerySet[Order]:
    return (
        Order.objects.filter(customer=user)
        .exclude(status=S.DRAFT)
        .select_related("product", "license")
        .order_by("-created_at")
    )


def order_rows_version(*, orders: list[Order]) -> str:
    """What the rows of ``/orders/`` show depends on, for their cached fragment: per order its
    ``updated_at`` (saved with every change of status) and its product's name. The language is
    the template's to add."""
    return "|".join(
        f"{order.pk}.{order.updated_at.timestamp()}.{order.product.name}" for order in orders
    )


def latest_payment(*, order: Order) -> Payment | None:
    return order.payments.order_by("-attempt").first()


def saved_cards(*, user) -> QuerySet[SavedCard]:
    """The cards an account keeps on its Stripe Customer (DESIGN 5.6), newest first."""
    if not user.is_authenticated:
        return SavedCard.objects.none()
    return SavedCard.objects.filter(customer__user=user)


def checkout_step(*, order: Order) -> str:
    """The URL name of the page where ``order`` continues (T4–T8), given its state."""
    if order.status == S.DETAILS_ENTERED:
        return "orders:confirm"
    if order.status in OPEN_FOR_DETAILS:
        return "orders:details"
    if order.status == S.REQUIRES_ACTION:
        return "orders:authenticate"
    if order.status in (S.PAID, S.FULFILLED):
        return "orders:complete"
    return "orders:detail"  # awaiting payment, refunded, canceled: the order page says which


def stuck_orders(*, cutoff: dt.datetime | None = None) -> dict[str, Q]:
    """What "stuck" means, for the reconciliation sweep and the admin filter alike.

    ``payment``: half-way through a payment and untouched since ``cutoff`` (a late failure report
    may have hidden a newer attempt that is still in progress), within STUCK_FOR_AT_MOST;
    ``extension``: paid before ``cutoff`` and not extended yet.
    """
    now = timezone.now()
    if cutoff is None:
        cutoff = now - dt.timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    half_way = Q(status__in=[S.AWAITING_PAYMENT, S.REQUIRES_ACTION]) | Q(
        status=S.PAYMENT_FAILED,
        payments__status__in=[Payment.Status.REQUIRES_ACTION, Payment.Status.PROCESSING],
    )
    recent = Q(updated_at__lt=cutoff, updated_at__gt=now - STUCK_FOR_AT_MOST)
    return {
        # Money that does not match waits for an operator, not for the sweep.
        "payment": half_way & recent & ~Q(attention=Order.Attention.AMOUNT_MISMATCH),
        "extension": Q(status=S.PAID, paid_at__lt=cutoff),
        # Perhaps claimed for a charge whose answer was never recorded (``services.release_claim``
        # tells).
        "claimed": Q(status=S.AWAITING_PAYMENT, updated_at__lt=cutoff),
    }


def licenses_renewed_with(*, card: SavedCard) -> list:
    """The licenses whose automatic renewal charges ``card`` (switched on): removing the card
    switches it off (``orders.renewals`` keeps the relation; read here through it)."""
    return [
        renewal.license
        for renewal in card.automatic_renewals.select_related("license__product").filter(
            license__auto_renew=True
        )
    ]
