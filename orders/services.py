"""The checkout and fulfilment: one function per order transition, each guarded and idempotent.

States (DESIGN 3): draft → details_entered → awaiting_payment → requires_action → paid → fulfilled,
with the side exits payment_failed (another card may be tried), canceled and refunded.

The customer's return, the webhook and the reconciliation job all call ``sync_payment``:
whichever comes first moves the order, the others find it done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import License, LicenseEvent, RenewalPath
from licenses.services import record_license_change

from . import selectors
from .legal import DOCUMENT_VERSIONS
from .models import Order, Payment
from .payments import gateway

logger = logging.getLogger(__name__)
S = Order.Status

# Orders in these states may still take a (new) card and be confirmed.
OPEN_FOR_DETAILS = (S.DRAFT, S.DETAILS_ENTERED, S.PAYMENT_FAILED)


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
    option = next(
        (o for o in selectors.renewal_options(license=license) if o.path.pk == path_id), None
    )
    if option is None:
        raise CheckoutError(_("This product cannot be chosen for this license."))
    if option.blocked_reason:
        raise CheckoutError(option.blocked_reason)
    term = next((t for t in option.terms if t.term_years == term_years), None)
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
        tax_rate=selectors.TAX_RATE,
        language=language,
    )


def enter_details(*, order: Order, email: str, card_token: str) -> Payment:
    """T4: the contact email and a card; the card is added to a Stripe customer as a new attempt.

    With no new token, the card of the last attempt is kept (the customer came back with
    "Edit order"), unless that attempt failed.
    """
    with transaction.atomic():
        order = _lock_open_order(order)
        previous = selectors.latest_payment(order=order)
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
        payment = selectors.latest_payment(order=order)
        if payment is None or order.status == S.DRAFT:
            raise CheckoutError(_("Enter your email address and card first."))
        if payment.stripe_payment_intent or order.status not in (S.DETAILS_ENTERED,):
            # Already charged (or being charged): read the truth instead of charging again.
            return _result(order, payment, _read_intent(payment))
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
        _apply_intent(order, payment, intent)
        return _result(order, payment, intent)


def sync_payment(*, payment: Payment) -> Order:
    """Re-read the attempt's PaymentIntent from Stripe and move the order accordingly.

    Safe to call any number of times from anywhere (return from 3-D Secure, webhook,
    reconciliation); events are only triggers, Stripe's answer decides.
    """
    if not payment.stripe_payment_intent:
        return payment.order
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        _apply_intent(order, payment, intent)
    return order


def abandon_attempt(*, order: Order) -> Order:
    """T6: the customer leaves 3-D Secure to use another card: cancel the PaymentIntent at
    Stripe first, then read it back, so the order ends in ``payment_failed`` (or in ``paid``
    if the authentication had in fact just gone through)."""
    payment = selectors.latest_payment(order=order)
    if order.status != S.REQUIRES_ACTION or not payment or not payment.stripe_payment_intent:
        return order
    try:
        gateway.cancel_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    except gateway.GatewayUnavailable:
        raise
    except gateway.PaymentError:
        pass  # already succeeded or canceled: the sync below reads what it became
    return sync_payment(payment=payment)


def _read_intent(payment: Payment):
    if not payment.stripe_payment_intent:
        return None
    return gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)


def _result(order: Order, payment: Payment, intent) -> ConfirmResult:
    needs_action = intent is not None and intent.requires_action
    return ConfirmResult(
        order=order,
        payment=payment,
        client_secret=intent.client_secret if needs_action else "",
        failure_message=payment.failure_text if order.status == S.PAYMENT_FAILED else "",
    )


def _apply_intent(order: Order, payment: Payment, intent) -> None:
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
            update_fields=[
                "status",
                "stripe_charge",
                "failure_code",
                "failure_message",
                "updated_at",
            ]
        )
        mark_paid(order=order)
        return
    if intent.requires_action:
        payment.status = Payment.Status.REQUIRES_ACTION
        payment.save(update_fields=["status", "updated_at"])
        if order.status == S.AWAITING_PAYMENT:
            order.status = S.REQUIRES_ACTION
            order.save(update_fields=["status", "updated_at"])
        return
    if intent.status in ("processing",):
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
            queue_task_on_commit("send_payment_failed_mail", order.pk)


def mark_paid(*, order: Order) -> None:
    """paid: the money is ours; the extension is handed to a worker once this commits."""
    if order.status in (S.PAID, S.FULFILLED, S.REFUNDED):
        return
    order.status = S.PAID
    order.paid_at = timezone.now()
    order.save(update_fields=["status", "paid_at", "updated_at"])
    queue_task_on_commit("fulfil_order", order.pk)
    queue_task_on_commit("send_order_completed_mail", order.pk)


def extend_license(*, order: Order) -> bool:
    """K10, T8: extend the license once for a paid order. Returns True if this call did it.

    Locks the order and the license; the ledger's unique (order, kind) row is the last guard
    should two workers get here at once on a database without row locks.
    """
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            if order.status != S.PAID:
                return False
            license = License.objects.select_for_update().get(pk=order.license_id)
            paid_on = timezone.localdate(order.paid_at)
            new_expires_on = selectors.new_expiry(
                expires_on=license.expires_on, term_years=order.term_years, paid_on=paid_on
            )
            record_license_change(
                license=license,
                kind=(
                    LicenseEvent.Kind.UPGRADED
                    if order.path_kind == RenewalPath.Kind.UPGRADE
                    else LicenseEvent.Kind.RENEWED
                ),
                new_expires_on=new_expires_on,
                new_product=order.product,
                order=order,
                note=order.number,
            )
            order.status = S.FULFILLED
            order.fulfilled_at = timezone.now()
            order.save(update_fields=["status", "fulfilled_at", "updated_at"])
            queue_task_on_commit("send_license_extended_mail", order.pk)
    except IntegrityError:
        logger.info("Order %s was extended by a concurrent worker", order.number)
        return False
    return True


# Publishing happens inside a request: with the broker down, Celery's default retry policy
# would hold every webhook and checkout request for 0.6 s (bench/webhook_ingest.py
# --broker-down). One quick retry, then give up: the reconciliation sweep queues the work later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}


def queue_task_on_commit(name: str, *args) -> None:
    """Queue a task once the surrounding transaction commits.

    ``robust``: a broker that is down must not turn a committed payment into an error page;
    the reconciliation sweep finds paid orders that were never extended and events never
    processed, and queues them again.
    """
    from . import tasks  # tasks import this module

    queue_on_commit(getattr(tasks, name), *args)


def queue_on_commit(task, *args) -> None:
    """The one way the orders app queues work: after commit, robust, with a short retry."""
    transaction.on_commit(
        lambda: task.apply_async(args, retry_policy=PUBLISH_RETRY_POLICY), robust=True
    )
