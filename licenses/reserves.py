"""Reserve licenses (K7): switching them in, and their mails.

A Windows reserve takes over on the expiry date by itself: ``switch_reserve_licenses`` (Celery
beat, and ``manage.py switch_reserve_licenses --date``) queues the switch of every one whose day
has come, including days a stopped beat missed, and a worker runs ``switch_reserve``. A Mac reserve is switched by the customer from the expiry
date (``switch_reserve`` from the license page); the same job mails them that day.

Exactly once per reserve: the reserve row is locked and must still be waiting, and the ledger row
it writes is unique per activation code. A rerun finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from celery import shared_task
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.celery import RETRY_WITH_BACKOFF
from config.mail import send_once, site_url

from .dates import add_years, extended_expiry
from .models import License, LicenseEvent, ReserveLicense, ReserveMail
from .services import record_license_change

logger = logging.getLogger(__name__)
Waiting = ReserveLicense.State.WAITING


class SwitchNotYet(Exception):
    """A Mac reserve is switched from the expiry date only (K7); the message says when."""


def switch_reserve(
    *, reserve: ReserveLicense, today: dt.date | None = None, actor=None
) -> LicenseEvent | None:
    """Switch ``reserve`` in and write its ledger row. Returns None if it was already switched.

    Windows (automatic): the new term runs from the expiry date, whenever the job gets to it, so
    nothing is lost. Mac (the customer's button): from the expiry date on the day itself, from the
    day of the switch once expired (K10). Raises SwitchNotYet before the expiry date.
    """
    today = today or timezone.localdate()
    try:
        with transaction.atomic():
            reserve = (
                ReserveLicense.objects.select_for_update()
                .select_related("activation_code__product")
                .get(pk=reserve.pk)
            )
            if reserve.state != Waiting:
                return None
            license = (
                License.objects.select_for_update()
                .select_related("product")
                .get(pk=reserve.license_id)
            )
            if today < license.expires_on:
                raise SwitchNotYet(
                    _("The reserve license can be switched in from %(day)s, the expiry date.")
                    % {"day": license.expires_on.isoformat()}
                )
            code = reserve.activation_code
            automatic = reserve.switch == ReserveLicense.Switch.AUTOMATIC
            event = record_license_change(
                license=license,
                kind=LicenseEvent.Kind.RESERVE_SWITCHED,
                new_expires_on=(
                    add_years(license.expires_on, code.term_years)
                    if automatic
                    else extended_expiry(
                        expires_on=license.expires_on, term_years=code.term_years, paid_on=today
                    )
                ),
                new_product=code.product,
                activation_code=code,
                actor=actor,
            )
            reserve.state = ReserveLicense.State.SWITCHED
            reserve.switched_at = timezone.now()
            reserve.event = event
            reserve.save(update_fields=["state", "switched_at", "event"])
            if automatic:
                send_reserve_mail.delay(reserve.pk, ReserveMail.Key.SWITCHED)
    except IntegrityError:
        logger.info("Reserve license %s was switched in by a concurrent run", reserve.pk)
        return None
    return event


@shared_task(**RETRY_WITH_BACKOFF)
def switch_reserve_task(reserve_id: int, day: str) -> bool:
    """Switch one due reserve in as of ``day`` (the sweep queues one per reserve)."""
    reserve = ReserveLicense.objects.filter(pk=reserve_id).first()
    if reserve is None:
        return False
    try:
        return switch_reserve(reserve=reserve, today=dt.date.fromisoformat(day)) is not None
    except SwitchNotYet:
        return False  # its license was renewed since it was queued: a later sweep takes it


@dataclass
class SweepReport:
    switches_queued: int = 0
    mails_queued: int = 0


def switch_reserve_licenses(*, today: dt.date | None = None) -> SweepReport:
    """The periodic job: queue the switch of every due Windows reserve, and the switch-day mail
    of every due Mac reserve.

    Everything whose expiry date is ``today`` or earlier is taken, so a run catches up the days
    it missed; what is done is never done again (``switch_reserve``, ``send_once``), and what a
    lost task left undone is queued again by the next run. Workers do the switching, so the sweep
    only selects and queues (DESIGN 10).
    """
    today = today or timezone.localdate()
    report = SweepReport()
    due = ReserveLicense.objects.filter(
        state=Waiting, license__expires_on__lte=today, license__revoked_at__isnull=True
    ).order_by("pk")
    automatic = due.filter(switch=ReserveLicense.Switch.AUTOMATIC)
    for reserve_id in automatic.values_list("pk", flat=True).iterator(chunk_size=2000):
        switch_reserve_task.delay(reserve_id, today.isoformat())
        report.switches_queued += 1
    mac = due.filter(switch=ReserveLicense.Switch.MANUAL, license__owner__isnull=False).exclude(
        mails__key=ReserveMail.Key.SWITCH_DAY
    )
    for reserve_id in mac.values_list("pk", flat=True).iterator(chunk_size=2000):
        send_reserve_mail.delay(reserve_id, ReserveMail.Key.SWITCH_DAY)
        report.mails_queued += 1
    return report


@shared_task(**RETRY_WITH_BACKOFF)
def run_reserve_switch(day: str | None = None) -> dict:
    """Beat's entry point (every hour): ``switch_reserve_licenses`` for today."""
    report = switch_reserve_licenses(today=dt.date.fromisoformat(day) if day else None)
    return asdict(report)


def mail_reserve(*, reserve: ReserveLicense, key: str) -> bool:
    """Send the reserve's ``key`` mail once (``config.mail.send_once``, one row per key)."""
    if key == ReserveMail.Key.SWITCH_DAY and not reserve.is_waiting:
        return False  # switched already: nothing to remind of
    license = reserve.license
    to = license.owner.email if license.owner_id else ""
    with translation.override(reserve.language):
        license_url = site_url(reverse("licenses:detail", args=[license.serial]))
    return send_once(
        record=ReserveMail(reserve=reserve, key=key, to=to),
        template=f"reserve_{key}",
        to=to,
        language=reserve.language,
        context={
            "license": license,
            "reserve": reserve,
            "code": reserve.activation_code,
            "product": reserve.activation_code.product,
            "license_url": license_url,
        },
    )


@shared_task(follow_up=True, **RETRY_WITH_BACKOFF)
def send_reserve_mail(reserve_id: int, key: str) -> bool:
    reserve = ReserveLicense.objects.select_related(
        "license__owner", "license__product", "activation_code__product"
    ).get(pk=reserve_id)
    return mail_reserve(reserve=reserve, key=key)
