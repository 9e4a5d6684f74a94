"""Which licenses are due a reminder on a day (DESIGN 8), as one query the database indexes."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When

from licenses.models import CustomerPreferences, License, LicenseStatus, license_status

from .models import ReminderSent


def reminder_dates(*, on: dt.date, offsets: list[int] | None = None) -> dict[dt.date, int]:
    """``{expiry date: offset}`` of the licenses due a reminder ``on`` that day.

    An offset is how many days before the expiry date the mail goes (negative: after it).
    Lapsed dates (expired more than a year before ``on``) are left out: nothing is sent for them.
    """
    offsets = settings.REMINDER_OFFSETS_DAYS if offsets is None else offsets
    dates = {on + dt.timedelta(days=offset): offset for offset in offsets}
    return {
        expires_on: offset
        for expires_on, offset in dates.items()
        if license_status(expires_on=expires_on, revoked=False, today=on) != LicenseStatus.LAPSED
    }


def due_reminders(*, on: dt.date, offsets: list[int] | None = None) -> QuerySet:
    """``(license id, expiry date, offset)`` of every reminder due ``on`` and not yet sent.

    Registered, active owners with an address who did not opt out; licenses not revoked, and
    not on automatic renewal before they expire. One query: the expiry dates go through ``license_expires_on_idx`` (a
    handful of days out of the whole table), the opt-out and the sent record are anti-joins on
    unique indexes. Today's and tomorrow's expiries come first, as the most urgent.
    """
    dates = reminder_dates(on=on, offsets=offsets)
    if not dates:
        return License.objects.none().values_list("pk", "expires_on")
    offset = Case(
        *[When(expires_on=day, then=Value(days)) for day, days in dates.items()],
        output_field=IntegerField(),
    )
    urgency = Case(
        *[When(expires_on=day, then=Value(abs(days))) for day, days in dates.items()],
        output_field=IntegerField(),
    )
    opted_out = CustomerPreferences.objects.filter(
        user=OuterRef("owner_id"), reminders_opt_out=True
    )
    already_sent = ReminderSent.objects.filter(
        license=OuterRef("pk"), expires_on=OuterRef("expires_on"), offset_days=OuterRef("offset")
    )
    return (
        License.objects.filter(
            expires_on__in=list(dates),
            owner__isnull=False,
            owner__is_active=True,
            revoked_at__isnull=True,
        )
        # Up to the expiry date a license on automatic renewal gets the automatic-renewal
        # notice and charge mails (orders/renewals) instead; one still expired after that was
        # not renewed (its "not renewed" mail went), so the reminders after expiry go out.
        .exclude(auto_renew=True, expires_on__gte=on)
        .exclude(owner__email="")
        .annotate(offset=offset, urgency=urgency)
        .filter(~Exists(opted_out), ~Exists(already_sent))
        .order_by("urgency", "expires_on", "pk")
        .values_list("pk", "expires_on", "offset")
    )
