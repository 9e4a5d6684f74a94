"""Reserve licenses (K7): the periodic switch, the Mac switch day, their mails, exactly once."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from config.celery import app as celery_app
from licenses import reserves
from licenses.dates import add_years
from licenses.models import LicenseEvent, Platform, ReserveLicense, ReserveMail
from licenses.redemption import add_code
from tests.helpers.codes import license_with, new_code
from tests.plugins.worker import wait_until

pytestmark = pytest.mark.django_db
EXPIRY = dt.date(2027, 3, 31)


def reserved(
    platform=Platform.WINDOWS, *, expires_on=EXPIRY, term_years=1, email="hanako@example.com"
):
    """A license expiring on ``expires_on`` with a code added 30 days before, from ``platform``."""
    license, device = license_with(days_left=100, platform=platform)
    type(license).objects.filter(pk=license.pk).update(expires_on=expires_on)
    license.refresh_from_db()
    license.owner.email = email
    license.owner.save()
    code = new_code(term_years=term_years)
    added = add_code(
        license=license,
        device=device,
        code=code.code,
        account="",
        address="",
        today=expires_on - dt.timedelta(days=30),
    )
    assert added.reserve is not None
    return license, added.reserve


def switch_rows(license):
    return list(LicenseEvent.objects.filter(license=license, kind="reserve_switched"))


def test_K7_windows_reserve_is_switched_by_the_job_on_the_expiry_date_and_not_before(
    django_capture_on_commit_callbacks,
):
    license, reserve = reserved(Platform.WINDOWS, term_years=2)

    with django_capture_on_commit_callbacks(execute=True):
        before = reserves.switch_reserve_licenses(today=EXPIRY - dt.timedelta(days=1))
    assert before.switches_queued == 0
    license.refresh_from_db()
    assert license.expires_on == EXPIRY and switch_rows(license) == []

    with django_capture_on_commit_callbacks(execute=True):
        on_the_day = reserves.switch_reserve_licenses(today=EXPIRY)

    assert on_the_day.switches_queued == 1
    license.refresh_from_db()
    assert license.expires_on == add_years(EXPIRY, 2)
    (event,) = switch_rows(license)
    assert event.activation_code == reserve.activation_code
    assert (event.old_expires_on, event.new_expires_on) == (EXPIRY, add_years(EXPIRY, 2))
    reserve.refresh_from_db()
    assert reserve.state == "switched" and reserve.event == event
    (message,) = mail.outbox
    assert message.to == ["hanako@example.com"]
    assert (
        license.serial in message.subject and "予約ライセンスに切り替わりました" in message.subject
    )
    assert f"{add_years(EXPIRY, 2):%Y-%m-%d}" in message.body
    assert ReserveMail.objects.filter(reserve=reserve, key="switched").count() == 1


def test_K7_the_switch_job_catches_up_missed_days_and_a_rerun_changes_nothing(
    django_capture_on_commit_callbacks,
):
    """Beat was down for a week: the reserve still takes over from the expiry date."""
    license, _reserve = reserved(Platform.WINDOWS)
    late = EXPIRY + dt.timedelta(days=7)

    with django_capture_on_commit_callbacks(execute=True):
        first = reserves.switch_reserve_licenses(today=late)
    with django_capture_on_commit_callbacks(execute=True):
        again = reserves.switch_reserve_licenses(today=late)

    assert (first.switches_queued, again.switches_queued) == (1, 0)
    license.refresh_from_db()
    assert license.expires_on == add_years(EXPIRY, 1)
    assert len(switch_rows(license)) == 1
    assert len(mail.outbox) == 1


def test_K7_switching_one_reserve_twice_writes_one_ledger_row():
    license, reserve = reserved(Platform.WINDOWS)

    assert reserves.switch_reserve(reserve=reserve, today=EXPIRY) is not None
    assert reserves.switch_reserve(reserve=reserve, today=EXPIRY) is None

    assert len(switch_rows(license)) == 1


def test_K7_mac_reserve_is_not_switched_by_the_job_but_its_owner_is_mailed_that_day_once(
    django_capture_on_commit_callbacks,
):
    license, reserve = reserved(Platform.MAC)

    with django_capture_on_commit_callbacks(execute=True):
        assert (
            reserves.switch_reserve_licenses(today=EXPIRY - dt.timedelta(days=1)).mails_queued == 0
        )
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        report = reserves.switch_reserve_licenses(today=EXPIRY)
    with django_capture_on_commit_callbacks(execute=True):
        rerun = reserves.switch_reserve_licenses(today=EXPIRY + dt.timedelta(days=1))

    assert (report.switches_queued, report.mails_queued, rerun.mails_queued) == (0, 1, 0)
    (message,) = mail.outbox
    assert "切り替えてください" in message.subject
    assert f"/licenses/{license.serial}/" in message.body
    reserve.refresh_from_db()
    assert reserve.state == "waiting"
    license.refresh_from_db()
    assert license.expires_on == EXPIRY


def test_K7_mac_switch_before_the_expiry_date_is_refused_and_from_that_day_extends():
    license, reserve = reserved(Platform.MAC)

    with pytest.raises(reserves.SwitchNotYet, match="2027-03-31"):
        reserves.switch_reserve(reserve=reserve, today=EXPIRY - dt.timedelta(days=1))
    event = reserves.switch_reserve(reserve=reserve, today=EXPIRY)

    license.refresh_from_db()
    assert license.expires_on == add_years(EXPIRY, 1) == event.new_expires_on


def test_K7_mac_switched_late_starts_the_new_period_on_the_day_of_the_switch():
    """K10: after the expiry date the new term runs from the day the customer switches."""
    license, reserve = reserved(Platform.MAC)
    late = EXPIRY + dt.timedelta(days=10)

    reserves.switch_reserve(reserve=reserve, today=late)

    license.refresh_from_db()
    assert license.expires_on == add_years(late, 1)


def test_K7_the_switch_day_mail_is_not_sent_once_the_customer_has_switched():
    """Queued on the expiry date, run after the customer clicked "Switch now": nothing to say."""
    _license, reserve = reserved(Platform.MAC)
    reserves.switch_reserve(reserve=reserve, today=EXPIRY)

    assert reserves.send_reserve_mail(reserve.pk, ReserveMail.Key.SWITCH_DAY) is False
    assert mail.outbox == []


def test_switch_reserve_licenses_command_runs_for_a_given_day(
    capsys, django_capture_on_commit_callbacks
):
    license, _reserve = reserved(Platform.WINDOWS)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("switch_reserve_licenses", "--date", "2027-03-30")
    license.refresh_from_db()
    assert license.expires_on == EXPIRY
    with django_capture_on_commit_callbacks(execute=True):
        call_command("switch_reserve_licenses", "--date", "2027-03-31")

    license.refresh_from_db()
    assert license.expires_on == add_years(EXPIRY, 1)
    assert "Queued 1 reserve license switches" in capsys.readouterr().out


def test_switch_reserve_licenses_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="--date must look like"):
        call_command("switch_reserve_licenses", "--date", "31/03/2027")


def test_beat_runs_the_reserve_switch():
    entry = settings.CELERY_BEAT_SCHEDULE["switch-reserve-licenses"]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks
    assert entry["task"] == reserves.run_reserve_switch.name


def test_a_switch_queued_before_a_renewal_moved_the_expiry_date_does_nothing():
    """The license was renewed in the shop after the sweep queued its reserve: not due any more."""
    license, reserve = reserved(Platform.WINDOWS)
    type(license).objects.filter(pk=license.pk).update(expires_on=add_years(EXPIRY, 1))

    assert reserves.switch_reserve_task(reserve.pk, EXPIRY.isoformat()) is False
    reserve.refresh_from_db()
    assert reserve.state == ReserveLicense.State.WAITING


def test_a_revoked_license_keeps_its_reserve_waiting(django_capture_on_commit_callbacks):
    license, reserve = reserved(Platform.WINDOWS)
    type(license).objects.filter(pk=license.pk).update(
        revoked_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert reserves.switch_reserve_licenses(today=EXPIRY).switches_queued == 0
    reserve.refresh_from_db()
    assert reserve.state == ReserveLicense.State.WAITING


@pytest.mark.django_db(transaction=True)
def test_K7_the_beat_task_switches_and_mails_through_a_real_worker(celery_worker_process):
    """The task path: beat's task → worker → switch (ledger) → mail task → worker → sent once."""
    license, reserve = reserved(Platform.WINDOWS)

    reserves.run_reserve_switch.delay(EXPIRY.isoformat())

    wait_until(
        lambda: ReserveMail.objects.filter(reserve=reserve, key="switched").exists(),
        message="the reserve-switched mail recorded by the worker",
    )
    license.refresh_from_db()
    assert license.expires_on == add_years(EXPIRY, 1)
    assert len(switch_rows(license)) == 1
    assert license.serial in celery_worker_process.log()  # the console mail backend
