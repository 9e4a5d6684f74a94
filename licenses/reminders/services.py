"""Expiry reminders (DESIGN 8): the daily sweep and the mail, each reminder sent once.

The sweep (beat's ``run_reminder_sweep`` and ``manage.py send_expiry_reminders --date``) selects
the reminders due on a day with one query (``selectors.due_reminders``) and queues them in
batches of ``REMINDER_BATCH_SIZE`` (``queue_reminder_batch``), whose workers queue one
``send_expiry_reminder`` task per mail: publishing a task costs about a millisecond, so the sweep
publishes a few dozen and the workers the thousands, in parallel. Nothing loops over all
licenses, only over the due reminders. The mail task sends through the one mail path (``config.mail.send_once``) with a
``ReminderSent`` row unique per (license, expiry date, offset): a second sweep, two beat
instances or a retried task queue the same mail again, but it goes out once. Workers send at
``REMINDER_SEND_RATE`` (Celery's ``rate_limit``, per worker).

What the mail is about is checked again when it is sent: a license renewed, revoked, switched to
automatic renewal or whose owner opted out after the sweep gets nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from config.celery import RETRY_WITH_BACKOFF
from config.mail import send_once, site_url
from licenses.models import License, LicenseStatus
from licenses.selectors import customer_preferences, renewal_choice

from .links import renew_token, unsubscribe_token
from .models import ReminderSent
from .selectors import due_reminders

logger = logging.getLogger(__name__)

TEMPLATE = "expiry_reminder"


@dataclass(frozen=True)
class SweepResult:
    on: dt.date
    queued: int  # reminders in the batches queued
    batches: int
    failed: int  # reminders whose batch could not be published (broker down): rerun the day


def sweep_reminders(*, on: dt.date) -> SweepResult:
    """Queue the reminders due ``on`` in batches (a missed day is caught up with its date)."""
    due = [
        [license_id, expires_on.isoformat(), offset_days]
        for license_id, expires_on, offset_days in due_reminders(on=on)
    ]
    size = settings.REMINDER_BATCH_SIZE
    queued = failed = batches = 0
    in_transaction = transaction.get_connection().in_atomic_block
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        if queue_reminder_batch.delay(batch) is None and not in_transaction:
            failed += len(batch)
        else:
            queued += len(batch)
            batches += 1
    logger.info(
        "Expiry reminders for %s: %d queued in %d batches, %d not queued",
        on, queued, batches, failed,
    )  # fmt: skip
    return SweepResult(on=on, queued=queued, batches=batches, failed=failed)


@shared_task(**RETRY_WITH_BACKOFF)
def queue_reminder_batch(reminders: list[list]) -> int:
    """Queue one ``send_expiry_reminder`` per ``[license id, expiry date, offset]``.

    A retry queues the whole batch again: the mails that went already are not sent twice.
    """
    failed = sum(send_expiry_reminder.delay(*reminder) is None for reminder in reminders)
    if failed and not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{failed} of {len(reminders)} reminders could not be queued")
    return len(reminders)


def skip_reason(*, license: License, expires_on: dt.date, today: dt.date) -> str:
    """Why a reminder queued for ``expires_on`` must not go out now ('' when it may)."""
    if license.expires_on != expires_on:
        return "renewed since"  # the sweep reminds of the new date when it is due
    if license.owner is None or not license.owner.is_active or not license.owner.email:
        return "no registered owner"
    if license.revoked_at is not None:
        return "revoked"
    if license.auto_renew and expires_on >= today:
        # DESIGN 6a, 8: the automatic-renewal notice and charge replace the reminder until the
        # expiry date; after it, the license was not renewed and the reminders say how to renew.
        return "automatic renewal"
    if license.status_on(today) == LicenseStatus.LAPSED:
        return "lapsed"
    if customer_preferences(user=license.owner).reminders_opt_out:
        return "opted out"
    return ""


def reminder_context(*, license: License, today: dt.date) -> dict:
    """What the mail shows: the license, the days left or since expiry, the renewal choices of
    the choice page (T3, K2, J1), the signed "Renew now" link and the unsubscribe link. Call it
    in the customer's language: the links carry the language prefix."""
    days = (license.expires_on - today).days
    owner = license.owner
    return {
        "license": license,
        "product": license.product,
        "customer_name": customer_name(user=owner),
        "expires_on": license.expires_on,
        "days_left": max(days, 0),
        "days_since": max(-days, 0),
        "expired": days < 0,
        "expires_today": days == 0,
        "choice": renewal_choice(license=license, today=today),
        "renew_url": site_url(
            reverse("orders:renew_from_mail", args=[renew_token(license=license)])
        ),
        "link_days": settings.REMINDER_LINK_MAX_AGE_DAYS,
        "unsubscribe_url": unsubscribe_url(user=owner),
        "account_url": site_url(reverse("account")),
    }


def customer_name(*, user) -> str:
    """The name a mail greets the customer with, in the order of the active language."""
    parts = (
        [user.last_name, user.first_name]
        if (translation.get_language() or "ja").startswith("ja")
        else [user.first_name, user.last_name]
    )
    return " ".join(part for part in parts if part) or user.email


def unsubscribe_url(*, user) -> str:
    return site_url(reverse("reminders:unsubscribe", args=[unsubscribe_token(user=user)]))


def send_reminder(*, license: License, expires_on: dt.date, offset_days: int) -> bool:
    """Mail the owner about ``expires_on`` unless that reminder went already or is void now."""
    today = timezone.localdate()
    reason = skip_reason(license=license, expires_on=expires_on, today=today)
    if reason:
        logger.info("Reminder %s %s %+d not sent: %s", license, expires_on, offset_days, reason)
        return False
    owner = license.owner
    language = customer_preferences(user=owner).language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = reminder_context(license=license, today=today)
    return send_once(
        record=ReminderSent(
            license=license,
            expires_on=expires_on,
            offset_days=offset_days,
            to=owner.email,
            language=language,
        ),
        template=TEMPLATE,
        to=owner.email,
        language=language,
        context=context,
        headers={
            # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs here.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@shared_task(follow_up=True, rate_limit=settings.REMINDER_SEND_RATE, **RETRY_WITH_BACKOFF)
def send_expiry_reminder(license_id: int, expires_on: str, offset_days: int) -> bool:
    license = License.objects.select_related("product", "owner").filter(pk=license_id).first()
    if license is None:
        return False
    return send_reminder(
        license=license, expires_on=dt.date.fromisoformat(expires_on), offset_days=offset_days
    )


@shared_task
def run_reminder_sweep(on: str | None = None) -> int:
    """Beat's daily sweep (``on`` an ISO date, default today); returns the reminders queued."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    return sweep_reminders(on=day).queued
