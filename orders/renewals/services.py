"""Automatic renewal (DESIGN 6a): switching it on and off, the daily sweep, the off-session
charge and its mails.

``sweep_auto_renewals`` (beat's ``run_auto_renewal_sweep`` and ``manage.py run_auto_renewals
--date``) queues one ``charge_auto_renewal`` per license due that day and one notice per license
whose charge is AUTO_RENEW_NOTICE_DAYS away. ``charge_license`` claims the charge in the
database before Stripe is called: the automatic order is unique per license and expiry date and
its attempt unique per slot of the retry schedule, both created under the license's row lock
after checking that automatic renewal is still on, so reruns, two beats or a retried task never
charge twice, and a switch-off committed before the claim stops the charge. Stripe's answer goes
through the checkout's ``apply_intent`` and the same fulfilment (exactly-once extension, K10).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.celery import RETRY_WITH_BACKOFF
from config.mail import send_once, site_url
from licenses.models import License
from licenses.selectors import customer_preferences
from licenses.services import set_auto_renew
from orders.legal import AUTO_RENEWAL_TERMS_VERSION
from orders.mail import send_order_mail
from orders.models import Order, Payment, SavedCard
from orders.payments import gateway
from orders.payments.cards import customer_for_account
from orders.payments.sync import apply_intent
from orders.services import priced_order_fields

from .models import AutoRenewal, RenewalAttempt, RenewalNotice
from .selectors import (
    card_expires_before,
    charge_date,
    due_charges,
    due_notices,
    renewal_term,
    retry_schedule,
    slot_on,
)

logger = logging.getLogger(__name__)
S = Order.Status
Outcome = RenewalAttempt.Outcome


class RenewalError(Exception):
    """Automatic renewal cannot be switched on; ``str(error)`` is for the customer."""


# --- The switch --------------------------------------------------------------------------------


def switch_on(
    *,
    license: License,
    card: SavedCard,
    term_years: int,
    source: str,
    consented_at: dt.datetime | None = None,
    terms_version: str = AUTO_RENEWAL_TERMS_VERSION,
) -> AutoRenewal:
    """Opt in (DESIGN 6a): the owner's saved card, the term renewed each time, and the consent
    (when, and which version of the terms was shown) are stored with the switch."""
    if license.owner_id is None or card.customer.user_id != license.owner_id:
        raise RenewalError(_("Choose one of your saved cards."))
    if license.revoked_at is not None:
        raise RenewalError(_("This license has been revoked."))
    _option, term = renewal_term(license=license, term_years=term_years)
    if term is None:
        raise RenewalError(_("This license cannot be renewed automatically for this term."))
    with transaction.atomic():
        license = License.objects.select_for_update().get(pk=license.pk)
        renewal, _created = AutoRenewal.objects.update_or_create(
            license=license,
            defaults={
                "card": card,
                "term_years": term_years,
                "consented_at": consented_at or timezone.now(),
                "terms_version": terms_version,
                "source": source,
                "switched_off_at": None,
            },
        )
        set_auto_renew(license=license, enabled=True)
    return renewal


def replace_card(*, license: License, card: SavedCard) -> AutoRenewal:
    """The next automatic charges use ``card`` (one of the owner's saved cards)."""
    if card.customer.user_id != license.owner_id:
        raise RenewalError(_("Choose one of your saved cards."))
    with transaction.atomic():
        renewal = AutoRenewal.objects.select_for_update().get(license=license)
        renewal.card = card
        renewal.save(update_fields=["card", "updated_at"])
    return renewal


def switch_off(*, license: License) -> None:
    """Cancel any time (DESIGN 6a): once this commits no automatic charge starts for the
    license, even one due today and not yet sent (the claim checks the switch under the same
    row lock). A charge already sent to Stripe finishes."""
    with transaction.atomic():
        license = License.objects.select_for_update().get(pk=license.pk)
        set_auto_renew(license=license, enabled=False)
        AutoRenewal.objects.filter(license=license).update(
            switched_off_at=timezone.now(), updated_at=timezone.now()
        )


def switch_off_for_card(*, card: SavedCard) -> int:
    """A saved card is being removed: automatic renewal that charges it is switched off."""
    count = 0
    for renewal in AutoRenewal.objects.filter(card=card).select_related("license"):
        if renewal.license.auto_renew:
            switch_off(license=renewal.license)
            count += 1
    return count


# --- The sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    on: dt.date
    charges: int
    notices: int


def sweep_auto_renewals(*, on: dt.date) -> SweepResult:
    """Queue the charges and notices due ``on`` (a missed day is caught up with its date)."""
    charges = due_charges(on=on)
    for license_id in charges:
        charge_auto_renewal.delay(license_id, on.isoformat())
    notices = due_notices(on=on)
    for license_id in notices:
        send_renewal_notice.delay(license_id)
    logger.info("Automatic renewals for %s: %d charges, %d notices", on, len(charges), len(notices))
    return SweepResult(on=on, charges=len(charges), notices=len(notices))


@shared_task
def run_auto_renewal_sweep(on: str | None = None) -> int:
    """Beat's daily sweep (``on`` an ISO date, default today); returns the charges queued."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    return sweep_auto_renewals(on=day).charges


# --- The charge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    order: Order
    payment: Payment
    attempt: RenewalAttempt
    last: bool  # the last slot of the schedule


def charge_license(*, license: License, on: dt.date) -> str:
    """Charge the license's automatic renewal due ``on`` once; returns what happened."""
    claim = _claim(license=license, on=on)
    if isinstance(claim, str):
        logger.info("Automatic renewal of %s on %s: %s", license, on, claim)
        return claim
    try:
        intent = gateway.create_off_session_payment_intent(
            amount=claim.order.amount,
            customer_id=claim.payment.stripe_customer_id,
            payment_method=claim.payment.stripe_payment_method,
            order_number=claim.order.number,
            idempotency_key=claim.payment.idempotency_key,
        )
    except gateway.PaymentError as error:
        # Nothing is known to be charged: the attempt failed, the next slot tries again (a
        # PaymentIntent Stripe made anyway is found by its metadata and refunded as a duplicate).
        _record_failure(claim, code=error.code or "error")
        return Outcome.ERROR
    return _record_answer(claim, intent)


def _claim(*, license: License, on: dt.date) -> Claim | str:
    """Claim the charge due ``on``: the automatic order of the license's expiry date (created if
    need be) moves to ``awaiting_payment`` with a new attempt and payment, committed before
    Stripe is called.

    The order is locked before the license, as fulfilment does (``extend_license``), so the two
    never wait on each other; the license lock is what a switch-off takes too, so a claim after
    a switch-off sees it. A second claim for the same slot finds the attempt (or its unique
    constraint) and stops.
    """
    order = _automatic_order(license=license, on=on)
    if isinstance(order, str):
        return order
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        license = License.objects.select_for_update().get(pk=license.pk)
        if not license.auto_renew:
            return "switched off"
        if license.expires_on != order.renews_expiry:
            return "renewed since"
        slot = slot_on(expires_on=license.expires_on, on=on)
        if slot is None:
            return "not due"
        if order.status not in (S.DRAFT, S.PAYMENT_FAILED):
            # Paid, being charged, or the customer is paying it by hand.
            return f"order {order.status}"
        if order.renewal_attempts.filter(outcome=Outcome.AUTHENTICATION_REQUIRED).exists():
            return "waiting for the customer's authentication"
        if order.renewal_attempts.filter(slot__lte=slot).exists():
            return "attempted already"
        card = (
            SavedCard.objects.select_related("customer")
            .filter(automatic_renewals__license=license)
            .first()
        )
        if card is None:
            return "no card"
        try:
            with transaction.atomic():
                attempt = RenewalAttempt.objects.create(order=order, slot=slot, run_on=on)
        except IntegrityError:
            return "attempted already"
        last = order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        payment = Payment.objects.create(
            order=order,
            attempt=last + 1,
            amount=order.amount,
            status=Payment.Status.PROCESSING,
            stripe_customer_id=card.customer.stripe_id,
            stripe_payment_method=card.stripe_payment_method,
            card_brand=card.brand,
            card_last4=card.last4,
            keep_card=True,
        )
        attempt.payment = payment
        attempt.save(update_fields=["payment"])
        order.status = S.AWAITING_PAYMENT
        order.stripe_customer_id = card.customer.stripe_id
        order.save(update_fields=["status", "stripe_customer_id", "updated_at"])
    return Claim(order=order, payment=payment, attempt=attempt, last=slot == min(retry_schedule()))


def _automatic_order(*, license: License, on: dt.date) -> Order | str:
    """The automatic order of the license's current expiry date, created (as a draft, priced
    now: the renewal price of the current product for the consented term, J1) when this is its
    first charge. The unique (license, expiry date) makes a concurrent creation use the first."""
    license = License.objects.select_related("owner", "product").get(pk=license.pk)
    if not license.auto_renew:
        return "switched off"
    if license.revoked_at is not None or license.owner_id is None:
        return "not renewable"
    if slot_on(expires_on=license.expires_on, on=on) is None:
        return "not due"
    existing = Order.objects.filter(
        license=license, kind=Order.Kind.AUTOMATIC, renews_expiry=license.expires_on
    ).first()
    if existing is not None:
        return existing
    renewal = AutoRenewal.objects.filter(license=license).first()
    if renewal is None or renewal.card_id is None:
        return "no card"
    option, term = renewal_term(license=license, term_years=renewal.term_years, today=on)
    if term is None:
        return "no price"
    try:
        with transaction.atomic():
            return Order.objects.create(
                kind=Order.Kind.AUTOMATIC,
                renews_expiry=license.expires_on,
                customer=license.owner,
                email=license.owner.email,
                **priced_order_fields(license=license, option=option, term=term),
                language=customer_preferences(user=license.owner).language
                or settings.LANGUAGE_CODE,
                status=S.DRAFT,
                terms_accepted_at=renewal.consented_at,
                terms_versions={"auto_renewal": renewal.terms_version},
            )
    except IntegrityError:
        return Order.objects.get(
            license=license, kind=Order.Kind.AUTOMATIC, renews_expiry=license.expires_on
        )


def _record_answer(claim: Claim, intent: gateway.IntentState) -> str:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=claim.order.pk)
        payment = Payment.objects.get(pk=claim.payment.pk)
        attempt = RenewalAttempt.objects.get(pk=claim.attempt.pk)
        if payment.stripe_payment_intent is None:
            payment.stripe_payment_intent = intent.id
            payment.save(update_fields=["stripe_payment_intent", "updated_at"])
        apply_intent(order=order, payment=payment, intent=intent)
        if intent.succeeded:
            outcome = Outcome.SUCCEEDED
        elif intent.needs_authentication:
            outcome = Outcome.AUTHENTICATION_REQUIRED
            send_order_mail.delay(order.pk, "auto_renewal_authenticate", extra=_mail_extra(order))
        else:
            outcome = Outcome.DECLINED
            _mail_failure(order, attempt, last=claim.last)
        attempt.outcome = outcome
        attempt.failure_code = (intent.failure_code or "")[:100]
        attempt.finished_at = timezone.now()
        attempt.save(update_fields=["outcome", "failure_code", "finished_at"])
    return outcome


def _record_failure(claim: Claim, *, code: str) -> None:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=claim.order.pk)
        Payment.objects.filter(pk=claim.payment.pk, stripe_payment_intent=None).update(
            status=Payment.Status.FAILED, failure_code=code[:100], updated_at=timezone.now()
        )
        attempt = RenewalAttempt.objects.get(pk=claim.attempt.pk)
        attempt.outcome = Outcome.ERROR
        attempt.failure_code = code[:100]
        attempt.finished_at = timezone.now()
        attempt.save(update_fields=["outcome", "failure_code", "finished_at"])
        if order.status == S.AWAITING_PAYMENT:
            order.status = S.PAYMENT_FAILED
            order.save(update_fields=["status", "updated_at"])
        if claim.last:
            _mail_failure(order, attempt, last=True)


def _mail_failure(order: Order, attempt: RenewalAttempt, *, last: bool) -> None:
    if last:
        send_order_mail.delay(order.pk, "auto_renewal_not_renewed", extra=_mail_extra(order))
        return
    later = [slot for slot in retry_schedule() if slot < attempt.slot]
    extra = _mail_extra(order)
    extra["next_try_on"] = (order.renews_expiry - dt.timedelta(days=later[0])).isoformat()
    send_order_mail.delay(
        order.pk, "auto_renewal_declined", f"auto_renewal_declined:{attempt.slot}", extra
    )


def _mail_extra(order: Order) -> dict:
    """Plain values the failure mails show: links that work in the order's language."""
    with translation.override(order.language):
        return {
            "license_url": site_url(reverse("licenses:detail", args=[order.license.serial])),
            "pay_url": site_url(reverse("renewals:pay", args=[order.number])),
            "renew_url": site_url(reverse("orders:choose", args=[order.license.serial])),
        }


@shared_task(**RETRY_WITH_BACKOFF)
def charge_auto_renewal(license_id: int, on: str) -> str:
    """Charge one license's automatic renewal due ``on`` (see ``charge_license``)."""
    license = License.objects.filter(pk=license_id).first()
    if license is None:
        return "missing"
    return charge_license(license=license, on=dt.date.fromisoformat(on))


# --- Notices -----------------------------------------------------------------------------------


def send_notice(*, license: License) -> bool:
    """DESIGN 6a: the mail AUTO_RENEW_NOTICE_DAYS before a charge (amount, date, card, how to
    cancel or change the card), with a warning when the card expires before the charge date."""
    renewal = AutoRenewal.objects.select_related("card").filter(license=license).first()
    if not license.auto_renew or renewal is None or license.owner is None:
        return False
    _option, term = renewal_term(license=license, term_years=renewal.term_years)
    if term is None:
        return False
    owner = license.owner
    language = customer_preferences(user=owner).language or settings.LANGUAGE_CODE
    charge_on = charge_date(expires_on=license.expires_on)
    card = renewal.card
    card_expires = card is None or card_expires_before(card=card, day=charge_on)
    with translation.override(language):
        context = {
            "license": license,
            "product": license.product,
            "term": term,
            "term_years": term.term_years,
            "charge_on": charge_on,
            "card": card,
            "card_expires": card_expires,
            "license_url": site_url(reverse("licenses:detail", args=[license.serial])),
            "cards_url": site_url(reverse("orders:cards")),
        }
    return send_once(
        record=RenewalNotice(
            license=license,
            expires_on=license.expires_on,
            kind=RenewalNotice.Kind.CARD_EXPIRES if card_expires else RenewalNotice.Kind.NOTICE,
            to=owner.email,
        ),
        template="auto_renewal_card_expires" if card_expires else "auto_renewal_notice",
        to=owner.email,
        language=language,
        context=context,
    )


@shared_task(**RETRY_WITH_BACKOFF)
def send_renewal_notice(license_id: int) -> bool:
    license = License.objects.select_related("product", "owner").filter(pk=license_id).first()
    return bool(license) and send_notice(license=license)


# --- The card, set up on the license page ------------------------------------------------------


def prepare_card_setup(*, license: License, user, setup_intent_id: str = "") -> gateway.SetupState:
    """A SetupIntent on the account's Stripe Customer for the automatic-renewal card, or the
    one this page made before if it still waits for a card (a reload creates nothing new)."""
    customer_id = customer_for_account(user=user)
    if setup_intent_id:
        try:
            setup = gateway.retrieve_setup_intent(setup_intent_id=setup_intent_id)
        except gateway.GatewayUnavailable:
            raise
        except gateway.PaymentError:
            setup = None
        if setup is not None and setup.usable and setup.customer_id == customer_id:
            return setup
    return gateway.create_setup_intent(customer_id=customer_id, license_serial=license.serial)
