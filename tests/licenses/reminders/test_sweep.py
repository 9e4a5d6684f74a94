"""The daily reminder sweep (DESIGN 8, issue 12): who is due, once, and never about an old date."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app as celery_app
from licenses import services as license_services
from licenses.models import LicenseEvent
from licenses.reminders.models import ReminderSent
from licenses.reminders.selectors import due_reminders
from licenses.reminders.services import (
    run_reminder_sweep,
    send_expiry_reminder,
    sweep_reminders,
)
from tests.factories import LicenseFactory, UserFactory
from tests.helpers.reminders import OFFSETS, cloud_product, license_expiring, sweep_day
from tests.helpers.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return cloud_product()


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run the sweep for a day; its tasks run in-process when the test transaction "commits"."""

    def run(on):
        with django_capture_on_commit_callbacks(execute=True):
            return sweep_reminders(on=on)

    return run


def sent_keys() -> set[tuple[int, dt.date, int]]:
    return set(ReminderSent.objects.values_list("license_id", "expires_on", "offset_days"))


def test_default_offsets_are_design_8s(settings):
    assert settings.REMINDER_OFFSETS_DAYS == OFFSETS


def test_sweep_mails_exactly_the_due_licenses_once_at_every_offset(product, sweep, mailoutbox):
    on = sweep_day()
    due = {
        offset: license_expiring(on + dt.timedelta(offset), product=product) for offset in OFFSETS
    }
    near_misses = {offset + step for offset in OFFSETS for step in (-1, 1)} - set(OFFSETS)
    for days in near_misses:
        license_expiring(on + dt.timedelta(days), product=product)

    result = sweep(on)

    assert result.queued == len(OFFSETS)
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        license.owner.email for license in due.values()
    )
    assert sent_keys() == {
        (license.pk, license.expires_on, offset) for offset, license in due.items()
    }


def test_auto_renewal_lapsed_opted_out_revoked_and_unregistered_licenses_get_none(
    product, sweep, mailoutbox, settings
):
    settings.REMINDER_OFFSETS_DAYS = [7, -400]  # -400: a license lapsed more than a year
    on = sweep_day()
    in_7_days = on + dt.timedelta(7)
    control = license_expiring(in_7_days, product=product)
    # Automatic renewal's notice and charge mails replace these before the expiry date.
    license_expiring(in_7_days, product=product, auto_renew=True)
    license_expiring(on - dt.timedelta(400), product=product)
    opted_out = license_expiring(in_7_days, product=product)
    license_services.set_reminders(user=opted_out.owner, enabled=False)
    license_expiring(in_7_days, product=product, revoked_at=timezone.now())
    license_expiring(in_7_days, product=product, owner=None)
    license_expiring(in_7_days, product=product, owner=UserFactory(is_active=False))

    result = sweep(on)

    assert result.queued == 1
    assert [message.to for message in mailoutbox] == [[control.owner.email]]
    assert sent_keys() == {(control.pk, in_7_days, 7)}


def test_automatic_renewal_that_did_not_renew_gets_the_reminders_after_expiry(
    product, sweep, mailoutbox, settings
):
    """Issue 11: until the expiry date automatic renewal speaks for itself (notice, charge,
    "not renewed"); a license still expired after it was not renewed, and the reminders after
    expiry tell how to renew by hand."""
    settings.REMINDER_OFFSETS_DAYS = [0, -7]
    on = timezone.localdate()  # the mail task checks against the day it runs
    today = license_expiring(on, product=product, auto_renew=True)
    week_ago = license_expiring(on - dt.timedelta(7), product=product, auto_renew=True)

    assert sweep(on).queued == 1
    assert sent_keys() == {(week_ago.pk, week_ago.expires_on, -7)}
    assert today.pk not in {key[0] for key in sent_keys()}


def test_a_second_run_sends_nothing_more(product, sweep, mailoutbox):
    on = sweep_day()
    for offset in OFFSETS:
        license_expiring(on + dt.timedelta(offset), product=product)
    sweep(on)
    assert len(mailoutbox) == len(OFFSETS)

    second = sweep(on)

    assert second.queued == 0
    assert len(mailoutbox) == len(OFFSETS)
    assert ReminderSent.objects.count() == len(OFFSETS)


def test_a_retried_task_never_mails_twice(product, mailoutbox):
    on = sweep_day()
    license = license_expiring(on + dt.timedelta(14), product=product)
    args = (license.pk, license.expires_on.isoformat(), 14)

    assert send_expiry_reminder(*args) is True
    assert send_expiry_reminder(*args) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_each_reminder_once(mailoutbox):
    """Two beat instances (or a beat and an operator) sweep the same day at once: the unique
    record lets one of them send each reminder; the other's insert fails and sends nothing."""
    product = cloud_product()
    on = sweep_day()
    licenses = [
        license_expiring(on + dt.timedelta(offset), product=product) for offset in OFFSETS * 2
    ]
    # Eager tasks: each thread sends what it queued.
    _results, errors = run_together(lambda: sweep_reminders(on=on), lambda: sweep_reminders(on=on))

    assert errors == []
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        license.owner.email for license in licenses
    )
    assert ReminderSent.objects.count() == len(licenses)


def test_a_license_renewed_since_is_not_reminded_about_the_old_date(product, sweep, mailoutbox):
    on = sweep_day()
    license = license_expiring(on + dt.timedelta(7), product=product)
    old_expiry = license.expires_on
    # The sweep queued the 7-day reminder; the customer renews before a worker sends it.
    license_services.record_license_change(
        license=license,
        kind=LicenseEvent.Kind.RENEWED,
        new_expires_on=old_expiry.replace(year=old_expiry.year + 1),
    )

    assert send_expiry_reminder(license.pk, old_expiry.isoformat(), 7) is False
    assert sweep(on).queued == 0
    assert mailoutbox == []

    # The new expiry date gets its own reminders when they are due.
    sweep(license.expires_on - dt.timedelta(30))
    assert sent_keys() == {(license.pk, license.expires_on, 30)}
    assert len(mailoutbox) == 1


def test_a_missed_day_is_caught_up_by_the_command_with_its_date(
    product, mailoutbox, django_capture_on_commit_callbacks
):
    missed = timezone.localdate() - dt.timedelta(days=2)
    license = license_expiring(missed + dt.timedelta(7), product=product)

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_expiry_reminders", "--date", missed.isoformat(), stdout=out)

    assert f"{missed.isoformat()}: 1 expiry reminders queued." in out.getvalue()
    assert sent_keys() == {(license.pk, license.expires_on, 7)}


def test_the_command_explains_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_expiry_reminders", "--date", "2026-13-01")


def test_the_sweep_queues_the_reminders_in_batches(product, sweep, mailoutbox, settings):
    settings.REMINDER_BATCH_SIZE = 3
    on = sweep_day()
    for offset in OFFSETS:
        license_expiring(on + dt.timedelta(offset), product=product)

    result = sweep(on)

    assert (result.queued, result.batches, result.failed) == (len(OFFSETS), 3, 0)
    assert len(mailoutbox) == len(OFFSETS)
    assert ReminderSent.objects.count() == len(OFFSETS)


def test_offsets_are_a_setting(product, sweep, mailoutbox, settings):
    settings.REMINDER_OFFSETS_DAYS = [3]
    on = sweep_day()
    in_3_days = license_expiring(on + dt.timedelta(3), product=product)
    license_expiring(on + dt.timedelta(7), product=product)

    sweep(on)

    assert sent_keys() == {(in_3_days.pk, in_3_days.expires_on, 3)}


def test_selecting_the_due_reminders_is_one_query_whatever_the_number_of_licenses(
    product, django_assert_num_queries
):
    on = sweep_day()
    for offset in OFFSETS:
        license_expiring(on + dt.timedelta(offset), product=product)
    with django_assert_num_queries(1):
        assert len(list(due_reminders(on=on))) == len(OFFSETS)
    owner = UserFactory()
    for offset in OFFSETS * 5:
        LicenseFactory(product=product, owner=owner, expires_on=on + dt.timedelta(offset))
    with django_assert_num_queries(1):
        assert len(list(due_reminders(on=on))) == 6 * len(OFFSETS)


def test_beat_runs_the_sweep_every_day(settings, product, django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["expiry-reminders"]
    assert entry["task"] == run_reminder_sweep.name
    assert run_reminder_sweep.name in celery_app.tasks
    assert entry["schedule"].hour == {settings.REMINDER_SWEEP_HOUR}

    on = sweep_day()
    license_expiring(on + dt.timedelta(1), product=product)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_reminder_sweep(on.isoformat()) == 1
    assert ReminderSent.objects.count() == 1


def test_workers_send_at_the_configured_rate(settings):
    assert send_expiry_reminder.rate_limit == settings.REMINDER_SEND_RATE
