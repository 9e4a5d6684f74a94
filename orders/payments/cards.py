"""Stripe Customers and saved cards (DESIGN 5.2, 5.6).

One Stripe Customer per account (``StripeCustomer``), one per order for a guest
(``Order.stripe_customer_id``). A card reaches a customer through a SetupIntent confirmed in the
page; it stays there only with the customer's consent ("keep this card for next time", later
automatic renewal), and is detached once the attempt that used it is settled otherwise.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from config.celery import RETRY_WITH_BACKOFF
from orders.models import Order, Payment, SavedCard, StripeCustomer

from . import gateway

logger = logging.getLogger(__name__)

#: Sent (``payment=``, ``card=``) in the transaction that keeps the card of a successful payment
#: on the account, or finds it kept already; automatic renewal (``orders.renewals``) listens.
card_kept = Signal()

#: Attempts whose card is no longer needed by them: keep it (consent) or detach it.
SETTLED = (
    Payment.Status.SUCCEEDED,
    Payment.Status.FAILED,
    Payment.Status.REFUNDED,
    Payment.Status.CANCELED,
    Payment.Status.DUPLICATE,
)


def customer_for_order(*, order: Order) -> str:
    """The Stripe Customer that holds this order's cards: the account's, or the guest order's."""
    if order.customer_id:
        return customer_for_account(user=order.customer)
    return gateway.ensure_customer(
        email=order.email,
        customer_id=order.stripe_customer_id or None,
        metadata={"order": order.number},
    )


def customer_for_account(*, user) -> str:
    """The account's Stripe Customer, created on first use.

    If Stripe no longer knows the stored one (a development localstripe starts empty), a new
    customer replaces it and the saved cards, gone with the old one, are forgotten.
    """
    record = StripeCustomer.objects.filter(user=user).first()
    known = record.stripe_id if record else None
    customer_id = gateway.ensure_customer(
        email=user.email, customer_id=known, metadata={"account": str(user.pk)}
    )
    if customer_id == known:
        return customer_id
    if record is not None:
        with transaction.atomic():
            record.cards.all().delete()
            record.stripe_id = customer_id
            record.save(update_fields=["stripe_id"])
        return customer_id
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(user=user, stripe_id=customer_id)
    except IntegrityError:  # another tab created one first: use that one
        return StripeCustomer.objects.get(user=user).stripe_id
    return customer_id


def settle_card(*, payment: Payment) -> str:
    """Keep the attempt's card on the account (consent and success) or detach it at Stripe.

    Idempotent: once settled, nothing more happens, and running twice at once only detaches
    twice. A card the account saved earlier (paid with again) is never detached here; the
    customer removes it from the account page. Stripe is called outside any transaction.
    """
    payment = Payment.objects.select_related("order").get(pk=payment.pk)
    if payment.card_settled_at or payment.status not in SETTLED:
        return "unchanged"
    method = payment.stripe_payment_method
    saved = SavedCard.objects.filter(stripe_payment_method=method).first()
    if saved is not None:
        with transaction.atomic():
            if payment.status == Payment.Status.SUCCEEDED:
                card_kept.send(sender=SavedCard, payment=payment, card=saved)
            return _mark_settled(payment, "saved before")
    owner = StripeCustomer.objects.filter(
        user_id=payment.order.customer_id, stripe_id=payment.stripe_customer_id
    ).first()
    if payment.keep_card and payment.status == Payment.Status.SUCCEEDED and owner is not None:
        card = gateway.retrieve_payment_method(payment_method_id=method)
        with transaction.atomic():
            saved, _created = SavedCard.objects.get_or_create(
                stripe_payment_method=method,
                defaults={
                    "customer": owner,
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                },
            )
            card_kept.send(sender=SavedCard, payment=payment, card=saved)
            return _mark_settled(payment, "kept")
    try:
        gateway.detach_payment_method(payment_method_id=method)
    except gateway.GatewayUnavailable:
        raise  # the task retries
    except gateway.PaymentError:
        logger.info("Card %s of %s was already detached", method, payment)
    return _mark_settled(payment, "detached")


def _mark_settled(payment: Payment, outcome: str) -> str:
    Payment.objects.filter(pk=payment.pk, card_settled_at=None).update(
        card_settled_at=timezone.now()
    )
    return outcome


def save_card(*, user, payment_method: str) -> SavedCard:
    """Keep a card the account set up outside a checkout (the automatic-renewal switch on the
    license page): read back from Stripe, it must be on the account's Stripe Customer."""
    customer = StripeCustomer.objects.filter(user=user).first()
    card = gateway.retrieve_payment_method(payment_method_id=payment_method)
    if customer is None or card.customer_id != customer.stripe_id:
        raise gateway.PaymentError(str(gateway.FAILED), code="not_this_customer")
    saved, _created = SavedCard.objects.get_or_create(
        stripe_payment_method=card.payment_method,
        defaults={
            "customer": customer,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    )
    return saved


def remove_saved_card(*, user, card_id: int) -> None:
    """The customer removes a saved card (account page): detached at Stripe, then forgotten."""
    card = SavedCard.objects.select_related("customer").get(pk=card_id, customer__user=user)
    try:
        gateway.detach_payment_method(payment_method_id=card.stripe_payment_method)
    except gateway.GatewayUnavailable:
        raise
    except gateway.PaymentError:
        logger.info("Saved card %s was no longer at Stripe", card.stripe_payment_method)
    card.delete()


@shared_task(**RETRY_WITH_BACKOFF)
def settle_payment_card(payment_id: int) -> str:
    """Keep or detach the card of a settled attempt (see ``settle_card``)."""
    payment = Payment.objects.filter(pk=payment_id).first()
    return settle_card(payment=payment) if payment else "missing"
