"""The checkout: one service per step, each guarded and idempotent (T3–T6).

States (DESIGN 3): draft → details_entered → awaiting_payment → requires_action → paid → fulfilled,
with the side exits payment_failed (another card may be tried), canceled and refunded. This module
takes an order as far as the PaymentIntent; ``payments.sync`` moves it on from what Stripe says and
``fulfilment`` extends the license. No transaction is open while Stripe is called: each step
changes state in the database first (committed), then talks to Stripe, then records the answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import TAX_RATE, License
from licenses.selectors import renewal_options

from .legal import AUTO_RENEWAL_TERMS_VERSION, DOCUMENT_VERSIONS
from .models import Order, Payment, SavedCard
from .payments import cards, gateway
from .payments.duplicates import refund_duplicate
from .payments.sync import apply_intent, sync_payment
from .selectors import OPEN_FOR_DETAILS, latest_payment

logger = logging.getLogger(__name__)
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
        language=language,
        **priced_order_fields(license=license, option=option, term=term),
    )


def priced_order_fields(*, license: License, option, term) -> dict:
    """What an order of ``license`` renewed as ``option`` for ``term`` records of the product and
    the money (J1: priced on the server), for a checkout order and an automatic one alike."""
    return {
        "license": license,
        "from_product": license.product,
        "product": option.product,
        "path_kind": option.path.kind,
        "term_years": term.term_years,
        "price": term.price,
        "price_kind": option.path.price_kind,
        "amount": term.amount,
        "tax": term.tax,
        "tax_rate": TAX_RATE,
    }


def prepare_card_setup(*, order: Order) -> str:
    """T4, DESIGN 5.2: the client secret the details page confirms the card Element with.

    The order's Stripe Customer (the account's, or a guest order's own) gets a SetupIntent for
    this details step; it is reused while it still waits for a card, so reloading the page
    creates nothing new. Stripe is called outside any transaction.
    """
    if order.status not in OPEN_FOR_DETAILS:
        raise CheckoutError(_("This order can no longer be changed."))
    customer_id = cards.customer_for_order(order=order)
    setup = None
    if order.stripe_setup_intent:
        try:
            setup = gateway.retrieve_setup_intent(setup_intent_id=order.stripe_setup_intent)
        except gateway.GatewayUnavailable:
            raise
        except gateway.PaymentError:
            setup = None  # Stripe no longer knows it
        if setup is not None and not (setup.usable and setup.customer_id == customer_id):
            setup = None
    if setup is None:
        setup = gateway.create_setup_intent(customer_id=customer_id, order_number=order.number)
    Order.objects.filter(pk=order.pk, status__in=OPEN_FOR_DETAILS).update(
        stripe_customer_id=customer_id, stripe_setup_intent=setup.id, updated_at=timezone.now()
    )
    return setup.client_secret


def enter_details(
    *,
    order: Order,
    email: str,
    payment_method: str = "",
    saved_card: SavedCard | None = None,
    keep_card: bool = False,
    auto_renew: bool = False,
) -> Payment:
    """T4: the contact email and a card, as a new payment attempt.

    The card is a PaymentMethod the page set up (``payment_method``, read back from Stripe: it
    must belong to the order's Stripe Customer; brand and last 4 come from Stripe) or one of the
    account's saved cards. With neither, the card of the last attempt is kept (the customer came
    back with "Edit order"), unless that attempt failed. ``keep_card`` is the customer's consent
    to keep the card for next time (signed-in customers only); ``auto_renew`` their opt-in to
    automatic renewal with this card (DESIGN 6a), which keeps the card too: the consent time is
    the terms' time and the version of the automatic-renewal terms is recorded with the others.
    """
    auto_renew = auto_renew and order.customer_id is not None
    keep_card = (keep_card or auto_renew) and order.customer_id is not None
    with transaction.atomic():
        order = _lock_open_order(order)
        previous = latest_payment(order=order)
        new_card = bool(payment_method or saved_card)
        reuse = not new_card and previous and previous.status == Payment.Status.CARD_ADDED
        if not new_card and not reuse:
            raise CheckoutError(_("Enter your card details."))
        if reuse:
            _record_details(order, email, auto_renew)
            if not SavedCard.objects.filter(
                stripe_payment_method=previous.stripe_payment_method
            ).exists():
                previous.keep_card = keep_card
                previous.save(update_fields=["keep_card", "updated_at"])
            return previous

    # Stripe is read outside the lock: the card belongs to no attempt until it is recorded.
    if saved_card is not None:
        if saved_card.customer.user_id != order.customer_id:
            raise CheckoutError(_("The card could not be read. Please enter it again."))
        customer_id = saved_card.customer.stripe_id
        card = gateway.CardInfo(
            payment_method=saved_card.stripe_payment_method,
            brand=saved_card.brand,
            last4=saved_card.last4,
            exp_month=saved_card.exp_month,
            exp_year=saved_card.exp_year,
            customer_id=customer_id,
        )
        keep_card = True
    else:
        customer_id = order.stripe_customer_id
        card = gateway.retrieve_payment_method(payment_method_id=payment_method)
        if not customer_id or card.customer_id != customer_id:
            # Not set up by this order's SetupIntent (or Stripe did not attach it).
            raise CheckoutError(_("The card could not be read. Please enter it again."))
    with transaction.atomic():
        # Checked again: another tab may have confirmed the order meanwhile.
        order = _lock_open_order(order)
        order.stripe_setup_intent = ""  # used up: the next details step sets up a new one
        _record_details(order, email, auto_renew, "stripe_setup_intent")
        replaced = list(
            order.payments.filter(status=Payment.Status.CARD_ADDED).values_list("pk", flat=True)
        )
        order.payments.filter(pk__in=replaced).update(status=Payment.Status.CANCELED)
        for payment_id in replaced:
            cards.settle_payment_card.delay(payment_id)
        last = order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        return Payment.objects.create(
            order=order,
            attempt=last + 1,
            amount=order.amount,
            stripe_customer_id=customer_id,
            stripe_payment_method=card.payment_method,
            card_brand=card.brand,
            card_last4=card.last4,
            keep_card=keep_card,
        )


def _lock_open_order(order: Order) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status not in OPEN_FOR_DETAILS:
        raise CheckoutError(_("This order can no longer be changed."))
    return order


def _record_details(order: Order, email: str, auto_renew: bool, *extra_fields: str) -> None:
    """details_entered only once a usable card is on the order (T4)."""
    order.email = email
    order.terms_accepted_at = timezone.now()
    order.terms_versions = dict(DOCUMENT_VERSIONS)
    if auto_renew:
        order.terms_versions["auto_renewal"] = AUTO_RENEWAL_TERMS_VERSION
    order.auto_renew = auto_renew
    order.status = S.DETAILS_ENTERED
    order.save(
        update_fields=[
            "email",
            "auto_renew",
            "terms_accepted_at",
            "terms_versions",
            "status",
            "updated_at",
            *extra_fields,
        ]
    )


def confirm_order(*, order: Order) -> ConfirmResult:
    """T5/T6: charge the order's latest card once.

    The attempt is claimed first: the order moves to ``awaiting_payment`` in a transaction of
    its own, committed before Stripe is called, so a stalled Stripe holds no database lock
    (issue 9, point 12). A double click, a reload or a second tab then finds the claim and reads
    what is known instead of charging again; the Idempotency-Key of the attempt guards the
    retries at Stripe (localstripe ignores it: a second charge there is refunded as a duplicate).
    The answer is recorded afterwards, in a second transaction.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = latest_payment(order=order)
        if order.status == S.CANCELED:
            raise CheckoutError(_("This order was canceled. Please start a new order."))
        if payment is None or order.status == S.DRAFT:
            raise CheckoutError(_("Enter your email address and card first."))
        claimed = not payment.stripe_payment_intent and order.status == S.DETAILS_ENTERED
        if claimed:
            refuse_upgrade_with_auto_renew(order=order)
            order.status = S.AWAITING_PAYMENT
            order.save(update_fields=["status", "updated_at"])
    if not claimed:
        # Already charged (or being charged by another request): read, never charge again.
        return _result(order, payment, _read_intent(payment))
    try:
        intent = gateway.create_and_confirm_payment_intent(
            amount=order.amount,
            customer_id=payment.stripe_customer_id,
            payment_method=payment.stripe_payment_method,
            order_number=order.number,
            idempotency_key=payment.idempotency_key,
        )
    except gateway.PaymentError:
        release_claim(order=order, any_age=True)  # the customer may try again
        raise
    return _record_intent(order, payment, intent)


def _record_intent(order: Order, payment: Payment, intent: gateway.IntentState) -> ConfirmResult:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = Payment.objects.get(pk=payment.pk)
        recorded = payment.stripe_payment_intent
        if recorded is None:
            payment.stripe_payment_intent = intent.id
            payment.save(update_fields=["stripe_payment_intent", "updated_at"])
        if recorded in (None, intent.id):
            if order.status == S.DETAILS_ENTERED:  # the claim was released meanwhile
                order.status = S.AWAITING_PAYMENT
                order.save(update_fields=["status", "updated_at"])
            apply_intent(order=order, payment=payment, intent=intent)
            return _result(order, payment, intent)
        # Another PaymentIntent of this attempt was adopted meanwhile: this one is a duplicate.
        refund_duplicate.delay(order.pk, intent.id)
    return _result(order, payment, _read_intent(payment))


def release_claim(*, order: Order, any_age: bool = False) -> bool:
    """Give back an attempt claimed by ``confirm_order`` whose charge has no recorded answer
    (Stripe failed, or the process died), so the customer can confirm again. True if released.

    Only when the latest attempt has no PaymentIntent; the sweep releases claims older than
    RECONCILE_AFTER_SECONDS (``any_age`` is for the request that just failed).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = latest_payment(order=order)
        if order.status != S.AWAITING_PAYMENT or payment is None or payment.stripe_payment_intent:
            return False
        if not any_age and order.updated_at > timezone.now() - dt.timedelta(
            seconds=settings.RECONCILE_AFTER_SECONDS
        ):
            return False
        if order.is_automatic:
            # Nobody waits at a page to confirm again: the attempt failed, and the automatic
            # renewal's next slot tries again (orders.renewals).
            payment.status = Payment.Status.FAILED
            payment.failure_code = "not_sent"
            payment.save(update_fields=["status", "failure_code", "updated_at"])
            order.status = S.PAYMENT_FAILED
        else:
            order.status = S.DETAILS_ENTERED
        order.save(update_fields=["status", "updated_at"])
    return True


def cancel_order(*, order: Order) -> Order:
    """Issue 9, point 8: an order left in draft or at the details step is canceled, and what
    could still be paid at Stripe is canceled there too (its SetupIntent, the PaymentIntent of
    a failed attempt); a canceled order is never paid later (a late charge is refunded as a
    duplicate). The state changes first, in its own transaction; Stripe is called after."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in OPEN_FOR_DETAILS:
            return order
        setup_intent = order.stripe_setup_intent
        order.status = S.CANCELED
        order.canceled_at = timezone.now()
        order.stripe_setup_intent = ""
        order.save(update_fields=["status", "canceled_at", "stripe_setup_intent", "updated_at"])
        unused = list(
            order.payments.filter(status=Payment.Status.CARD_ADDED).values_list("pk", flat=True)
        )
        order.payments.filter(pk__in=unused).update(status=Payment.Status.CANCELED)
        for payment_id in unused:
            cards.settle_payment_card.delay(payment_id)
        open_intents = list(
            order.payments.exclude(stripe_payment_intent=None).exclude(
                status__in=[Payment.Status.SUCCEEDED, Payment.Status.REFUNDED]
            )
        )
    if setup_intent:
        _cancel_at_stripe(gateway.cancel_setup_intent, setup_intent_id=setup_intent)
    for payment in open_intents:
        _cancel_at_stripe(
            gateway.cancel_payment_intent, payment_intent_id=payment.stripe_payment_intent
        )
    return order


def _cancel_at_stripe(cancel, **ids) -> None:
    """Cancel at Stripe what may already be done or gone; an outage only leaves it open (a late
    charge of a canceled order is refunded)."""
    try:
        cancel(**ids)
    except gateway.PaymentError as error:
        logger.info("Could not cancel %s at Stripe: %s", ids, error.code)


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
