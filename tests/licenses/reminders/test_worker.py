"""Reminders really sent: the sweep queues them, a real Celery worker sends them through
Django's mail backend (the file backend, into a folder this test reads), once, at the rate set."""

import datetime as dt
import email
import email.policy

import pytest

from licenses.reminders.models import ReminderSent
from licenses.reminders.services import sweep_reminders
from tests.helpers.reminders import OFFSETS, cloud_product, license_expiring, sweep_day
from tests.plugins.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def start_worker(request, tmp_path, monkeypatch, **settings):
    """A real worker whose Django sends mail into the returned folder (``EMAIL_URL``), with
    ``settings`` in its environment."""
    folder = tmp_path / "mail"
    folder.mkdir()
    # django-environ drops the first "/" of the path: four slashes make it absolute.
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{folder}")
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    request.getfixturevalue("celery_worker_process")
    return folder


def messages_in(folder) -> list[email.message.EmailMessage]:
    separator = b"\n" + b"-" * 79 + b"\n"
    messages = []
    for path in sorted(folder.iterdir()):
        for raw in path.read_bytes().split(separator):
            if raw.strip():
                messages.append(email.message_from_bytes(raw, policy=email.policy.default))
    return messages


def test_reminders_are_sent_once_by_a_real_worker_through_djangos_mail_backend(
    request, tmp_path, monkeypatch
):
    mail_folder = start_worker(request, tmp_path, monkeypatch)
    product = cloud_product()
    on = sweep_day()
    licenses = [
        license_expiring(
            on + dt.timedelta(offset), product=product, language="en" if offset < 0 else "ja"
        )
        for offset in OFFSETS
    ]

    assert sweep_reminders(on=on).queued == len(OFFSETS)
    wait_until(lambda: ReminderSent.objects.count() == len(OFFSETS), timeout=60)
    messages = wait_until(
        lambda: len(found := messages_in(mail_folder)) == len(OFFSETS) and found, timeout=10
    )

    assert sorted(message["To"] for message in messages) == sorted(
        license.owner.email for license in licenses
    )
    for message in messages:
        assert message["List-Unsubscribe"].strip().startswith("<http")
        assert message["List-Unsubscribe-Post"].strip() == "List-Unsubscribe=One-Click"
        assert message.get_content_type() == "multipart/alternative"
        assert {part.get_content_type() for part in message.iter_parts()} == {
            "text/plain",
            "text/html",
        }
    bodies = [message.get_body(("plain",)).get_content() for message in messages]
    assert sum("Renew now" in body for body in bodies) == 2  # the two after expiry, in English
    assert sum("今すぐ更新" in body for body in bodies) == len(OFFSETS) - 2

    # Sweeping the day again, as a second beat or an operator would, sends nothing more.
    assert sweep_reminders(on=on).queued == 0
    assert len(messages_in(mail_folder)) == len(OFFSETS)


def test_the_worker_sends_reminders_at_the_configured_rate(request, tmp_path, monkeypatch):
    """REMINDER_SEND_RATE is Celery's rate limit on the task: at 30 a minute the worker sends
    one every 2 s (without it, the next one goes as soon as the broker delivers it: about once
    a second with the filesystem broker, at once with Redis)."""
    start_worker(request, tmp_path, monkeypatch, REMINDER_SEND_RATE="30/m")
    product = cloud_product()
    on = sweep_day()
    for offset in (7, 1, 0):
        license_expiring(on + dt.timedelta(offset), product=product)

    sweep_reminders(on=on)
    wait_until(lambda: ReminderSent.objects.count() == 3, timeout=30)

    sent = sorted(ReminderSent.objects.values_list("sent_at", flat=True))
    assert (sent[-1] - sent[0]).total_seconds() >= 3.5
