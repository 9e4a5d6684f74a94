"""Reads about automatic renewal: the schedule, what is due on a day, a license's state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef

from licenses.models import License, RenewalPath
from licenses.selectors import RenewalOption, TermOption, renewal_options
from orders.models import Order, SavedCard

from .models import AutoRenewal, RenewalAttempt, RenewalNotice

S = Order.Status
#: An automatic order in these states needs no (more) automatic charge.
SETTLED = (S.PAID, S.FULFILLED, S.REFUNDED, S.CANCELED)


def retry_schedule() -> list[int]:
    """Days before expiry of each try, first one first: AUTO_RENEW_DAYS_BEFORE, then the
    retries of AUTO_RENEW_RETRY_DAYS that come after it (e.g. [7, 3, 0])."""
    first = settings.AUTO_RENEW_DAYS_BEFORE
    return sorted(
        {first, *(d for d in settings.AUTO_RENEW_RETRY_DAYS if 0 <= d < first)}, reverse=True
    )


def slot_on(*, expires_on: dt.date, on: dt.date) -> int | None:
    """The point of the schedule a charge run ``on`` belongs to (the latest one reached), or
    None before the first and after the expiry date. A missed day is caught up by the next run."""
    days = (expires_on - on).days
    reached = [slot for slot in retry_schedule() if slot >= days >= 0]
    return min(reached) if reached else None


def charge_date(*, expires_on: dt.date) -> dt.date:
    return expires_on - dt.timedelta(days=settings.AUTO_RENEW_DAYS_BEFORE)


def due_charges(*, on: dt.date) -> list[int]:
    """Licenses with automatic renewal on whose expiry is in the charge window on ``on`` and
    whose automatic order for that expiry is not settled yet (one query)."""
    settled = Order.objects.filter(
        license=OuterRef("pk"),
        kind=Order.Kind.AUTOMATIC,
        renews_expiry=OuterRef("expires_on"),
        status__in=SETTLED,
    )
    return list(
        License.objects.filter(
            auto_renew=True,
            revoked_at=None,
            owner__isnull=False,
            expires_on__gte=on,
            expires_on__lte=on + dt.timedelta(days=settings.AUTO_RENEW_DAYS_BEFORE),
        )
        .exclude(Exists(settled))
        .order_by("expires_on", "pk")
        .values_list("pk", flat=True)
    )


def due_notices(*, on: dt.date) -> list[int]:
    """Licenses whose notice (AUTO_RENEW_NOTICE_DAYS before the charge) is due and not sent."""
    first_day = on + dt.timedelta(days=settings.AUTO_RENEW_DAYS_BEFORE)
    sent = RenewalNotice.objects.filter(license=OuterRef("pk"), expires_on=OuterRef("expires_on"))
    return list(
        License.objects.filter(
            auto_renew=True,
            revoked_at=None,
            owner__isnull=False,
            expires_on__gt=first_day,
            expires_on__lte=first_day + dt.timedelta(days=settings.AUTO_RENEW_NOTICE_DAYS),
        )
        .exclude(Exists(sent))
        .order_by("expires_on", "pk")
        .values_list("pk", flat=True)
    )


def renewal_term(*, license: License, term_years: int, today: dt.date | None = None):
    """The price of renewing ``license`` as its own product for ``term_years`` (tax included),
    with its option, or (None, None) when the product is not renewed as itself any more."""
    option: RenewalOption | None = next(
        (
            o
            for o in renewal_options(license=license, today=today)
            if o.path.kind == RenewalPath.Kind.SAME and o.product.pk == license.product_id
        ),
        None,
    )
    term: TermOption | None = option.term(term_years) if option else None
    return option, term


def card_expires_before(*, card: SavedCard, day: dt.date) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (card.exp_year, card.exp_month) < (day.year, day.month)


@dataclass(frozen=True)
class RenewalState:
    """What the license page shows about automatic renewal."""

    renewal: AutoRenewal | None
    on: bool
    next_charge_on: dt.date | None
    last_attempt: RenewalAttempt | None
    open_order: Order | None  # an automatic order the customer can still pay by hand
    card_expires_before_charge: bool


def renewal_state(*, license: License, today: dt.date) -> RenewalState:
    renewal = AutoRenewal.objects.filter(license=license).select_related("card").first()
    last = (
        RenewalAttempt.objects.filter(order__license=license)
        .select_related("order", "payment")
        .first()
    )
    open_order = Order.objects.filter(
        license=license,
        kind=Order.Kind.AUTOMATIC,
        renews_expiry=license.expires_on,
        status__in=(S.PAYMENT_FAILED, S.REQUIRES_ACTION, S.DETAILS_ENTERED),
    ).first()
    next_charge = None
    if license.auto_renew:
        next_charge = max(charge_date(expires_on=license.expires_on), today)
        if next_charge > license.expires_on:
            next_charge = None
    card = renewal.card if renewal else None
    return RenewalState(
        renewal=renewal,
        on=license.auto_renew,
        next_charge_on=next_charge,
        last_attempt=last,
        open_order=open_order,
        card_expires_before_charge=bool(
            card and next_charge and card_expires_before(card=card, day=next_charge)
        ),
    )
