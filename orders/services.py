"""The checkout: one service per step, each guarded and idempotent (T3–T6).

States (DESIGN 3): draft → details_entered → awaiting_payment → requires_action → paid → fulfilled,
with the side exits payment_failed (another card may be tried), canceled and refunded. This module
takes an order as far as the PaymentIntent; ``payments.sync`` moves it on from what Stripe says and
``fulfilment`` extends the license.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import TAX_RATE, License
from licenses.selectors import renewal_options

from .legal import DOCUMENT_VERSIONS
from .models import Order, Payment
from .payments import gateway
from .payments.sync import apply_intent, sync_payment
from .selectors import OPEN_FOR_DETAILS, latest_payment

S = Order.Status


class CheckoutError(Exception):
    """The step cannot be done; ``str(error)`` is for the customer."""


@dataclass(frozen=True)
class ConfirmResult:
    order: Order
    payment: Payment
    client_secret: str = ""
    failure_message: str = ""


def start_order(
    *,
    license: License,
    path_id: int,
    term_years: int,
    customer=None,
    email: str = "",
    language: str = "ja",
) -> Order:
    """A draft order for one of the license's renewal options, priced on the server (J1, T3)."""
    option = next((o for o in renewal_options(license=license) if o.path.pk == path_id), None)
    if option is None:
        raise CheckoutError(_("This product cannot be chosen for this license."))
    if option.blocked_reason:
        raise CheckoutError(option.blocked_reason)
    term = option.term(term_years)
    if term is None:
        raise CheckoutError(_("Choose a term of 1, 2 or 3 years."))
    return Order.objects.create(
        customer=customer,
        email=email or (customer.email if customer else ""),
        license=license,
        from_product=license.product,
        product=option.product,
        path_kind=option.path.kind,
        term_years=term.term_years,
        price=term.price,
        price_kind=option.path.price_kind,
        amount=term.amount,
        tax=term.tax,
        tax_rate=TAX_RATE,
        language=language,
    )


def enter_details(*, order: Order, email: str, card_token: str) -> Payment:
    """T4: the contact email and a card; the card is added to a Stripe customer as a new attempt.

    With no new token, the card of the last attempt is kept (the customer came back with
    "Edit order"), unless that attempt failed.
    """
    with transaction.atomic():
        order = _lock_open_order(order)
        previous = latest_payment(order=order)
        reuse = not card_token and previous and previous.status == Payment.Status.CARD_ADDED
        if not card_token and not reuse:
            raise CheckoutError(_("Enter your card details."))
        if reuse:
            _record_details(order, email)
            return previous

    # Stripe calls happen outside the lock: the card belongs to no order until it is recorded.
    customer_id = gateway.ensure_customer(email=email, customer_id=order.stripe_customer_id or None)
    card = gateway.add_card(customer_id=customer_id, token=card_token)
    with transaction.atomic():
        # Checked again: another tab may have confirmed the order meanwhile.
        order = _lock_open_order(order)
        order.stripe_customer_id = customer_id
        _record_details(order, email, "stripe_customer_id")
        last = order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        return Payment.objects.create(
            order=order,
            attempt=last + 1,
            amount=order.amount,
            stripe_customer_id=customer_id,
            stripe_payment_method=card.card_id,
            card_brand=card.brand,
            card_last4=card.last4,
        )


def _lock_open_order(order: Order) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status not in OPEN_FOR_DETAILS:
        raise CheckoutError(_("This order can no longer be changed."))
    return order


def _record_details(order: Order, email: str, *extra_fields: str) -> None:
    """details_entered only once a usable card is on the order (T4)."""
    order.email = email
    order.terms_accepted_at = timezone.now()
    order.terms_versions = dict(DOCUMENT_VERSIONS)
    order.status = S.DETAILS_ENTERED
    order.save(
        update_fields=[
            "email",
            "terms_accepted_at",
            "terms_versions",
            "status",
            "updated_at",
            *extra_fields,
        ]
    )


def confirm_order(*, order: Order) -> ConfirmResult:
    """T5/T6: charge the order's latest card once.

    The order row stays locked while the PaymentIntent is created, so a double click, a reload
    or a second tab waits and then finds the attempt's PaymentIntent and re-reads it instead of
    creating another (localstripe ignores Idempotency-Key, so this guard is ours).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = latest_payment(order=order)
        if payment is None or order.status == S.DRAFT:
            raise CheckoutError(_("Enter your email address and card first."))
        if payment.stripe_payment_intent or order.status not in (S.DETAILS_ENTERED,):
            # Already charged (or being charged): read the truth instead of charging again.
            return _result(order, payment, _read_intent(payment))
        refuse_upgrade_with_auto_renew(order=order)
        intent = gateway.create_and_confirm_payment_intent(
            amount=order.amount,
            customer_id=payment.stripe_customer_id,
            payment_method=payment.stripe_payment_method,
            order_number=order.number,
            idempotency_key=payment.idempotency_key,
        )
        payment.stripe_payment_intent = intent.id
        payment.save(update_fields=["stripe_payment_intent", "updated_at"])
        order.status = S.AWAITING_PAYMENT
        order.save(update_fields=["status", "updated_at"])
        apply_intent(order=order, payment=payment, intent=intent)
        return _result(order, payment, intent)


def refuse_upgrade_with_auto_renew(*, order: Order) -> None:
    """T3, checked again at confirm: automatic renewal may have been switched on from the
    license page after the upgrade was chosen. The license's current flag decides."""
    if order.is_upgrade and License.objects.filter(pk=order.license_id, auto_renew=True).exists():
        raise CheckoutError(
            _(
                "Automatic renewal is on for this license. Cancel automatic renewal before "
                "upgrading."
            )
        )


def abandon_attempt(*, order: Order) -> Order:
    """T6: the customer leaves 3-D Secure to use another card: cancel the PaymentIntent at
    Stripe first, then read it back, so the order ends in ``payment_failed`` (or in ``paid``
    if the authentication had in fact just gone through)."""
    payment = latest_payment(order=order)
    if order.status != S.REQUIRES_ACTION or not payment or not payment.stripe_payment_intent:
        return order
    try:
        gateway.cancel_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    except gateway.GatewayUnavailable:
        raise
    except gateway.PaymentError:
        pass  # already succeeded or canceled: the sync below reads what it became
    return sync_payment(payment=payment)


def _read_intent(payment: Payment) -> gateway.IntentState | None:
    if not payment.stripe_payment_intent:
        return None
    return gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)


def authentication_secret(*, order: Order) -> str:
    """T6: the client secret stripe.js needs to show the bank's challenge for the latest attempt."""
    payment = latest_payment(order=order)
    intent = _read_intent(payment) if payment is not None else None
    return intent.client_secret if intent is not None else ""


def _result(order: Order, payment: Payment, intent) -> ConfirmResult:
    needs_action = intent is not None and intent.requires_action
    return ConfirmResult(
        order=order,
        payment=payment,
        client_secret=intent.client_secret if needs_action else "",
        failure_message=payment.failure_text if order.status == S.PAYMENT_FAILED else "",
    )
