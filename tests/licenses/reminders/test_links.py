"""The links of a reminder mail: "Renew now" (signed, bound to the license and its expiry date,
expiring) and the one-click unsubscribe (RFC 8058)."""

import datetime as dt
import re
import time
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licenses import selectors as license_selectors
from licenses.models import LicenseEvent
from licenses.reminders import links
from licenses.reminders.services import send_expiry_reminder, sweep_reminders
from licenses.services import record_license_change
from tests.helpers.reminders import cloud_product, license_expiring, sweep_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def license():
    return license_expiring(timezone.localdate() + dt.timedelta(days=7), product=cloud_product())


def mailed_link(message, kind: str) -> str:
    """The path of the ``kind`` link ("renew/mail" or "reminders/unsubscribe") in the mail."""
    match = re.search(rf"http://[^/\s]+(/(?:en/)?{kind}/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_renew_now_link_of_the_mail_opens_the_choice_page_signed_out(license, mailoutbox):
    send_expiry_reminder(license.pk, license.expires_on.isoformat(), 7)
    path = mailed_link(mailoutbox[0], "renew/mail")

    response = Client().get(path, follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:choose", args=[license.serial])
    page = response.content.decode()
    assert response.status_code == 200
    assert license.serial in page
    assert "¥4,790" in page and "¥11,980" in page
    assert "アクティベーションコード" not in page  # no code asked for


def test_renew_now_link_opens_the_english_choice_page_for_an_english_customer(mailoutbox):
    license = license_expiring(
        timezone.localdate() + dt.timedelta(days=1), product=cloud_product(), language="en"
    )
    send_expiry_reminder(license.pk, license.expires_on.isoformat(), 1)
    response = Client().get(mailed_link(mailoutbox[0], "renew/mail"), follow=True)
    assert response.redirect_chain[-1][0] == f"/en/renew/{license.serial}/"
    assert "Choose your renewal" in response.content.decode()


def test_a_tampered_renew_link_gets_a_clear_page_never_a_500(license, client):
    token = links.renew_token(license=license)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "nonsense", signing.dumps([license.pk + 1000, "x"], salt="other")):
        response = client.get(reverse("orders:renew_from_mail", args=[bad]))
        assert response.status_code == 404
        assert "この更新用リンクは無効です" in response.content.decode()
    # And it opened nothing: the choice page is still closed to this visitor.
    assert client.get(reverse("orders:choose", args=[license.serial])).status_code == 404


def test_an_expired_renew_link_opens_nothing(license, client, settings):
    """The clock is moved for the signature only: waiting 60 days cannot run here."""
    settings.REMINDER_LINK_MAX_AGE_DAYS = 60
    sixty_one_days_ago = time.time() - 61 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=sixty_one_days_ago):
        token = links.renew_token(license=license)

    response = client.get(reverse("orders:renew_from_mail", args=[token]))

    assert response.status_code == 410
    assert "有効期限が切れています" in response.content.decode()
    assert client.get(reverse("orders:choose", args=[license.serial])).status_code == 404


def test_a_renew_link_of_a_license_renewed_since_is_stale(license, client):
    token = links.renew_token(license=license)
    record_license_change(
        license=license,
        kind=LicenseEvent.Kind.RENEWED,
        new_expires_on=license.expires_on + dt.timedelta(days=365),
    )

    response = client.get(reverse("orders:renew_from_mail", args=[token]))

    assert response.status_code == 410
    assert "古くなっています" in response.content.decode()


def test_unsubscribe_page_shows_what_the_link_does_and_changes_nothing(license, mailoutbox):
    send_expiry_reminder(license.pk, license.expires_on.isoformat(), 7)
    path = mailed_link(mailoutbox[0], "reminders/unsubscribe")

    response = Client().get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert "有効期限のお知らせを停止する" in page
    name = license.owner.email.split("@")[0]
    assert f"{name[0]}{'*' * (len(name) - 1)}@example.com" in page  # masked
    assert license.owner.email not in page
    assert not license_selectors.customer_preferences(user=license.owner).reminders_opt_out


def test_one_click_post_opts_out_and_the_next_sweep_skips_the_customer(
    mailoutbox, django_capture_on_commit_callbacks
):
    on = sweep_day()
    product = cloud_product()
    license = license_expiring(on + dt.timedelta(days=14), product=product)
    send_expiry_reminder(license.pk, license.expires_on.isoformat(), 14)
    unsubscribe = mailoutbox[0].message()["List-Unsubscribe"]
    url = re.fullmatch(r"<http://[^/]+(/\S+)>", unsubscribe).group(1)
    # What a mail client does for RFC 8058: a POST with this body, no cookie, no CSRF token.
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "停止しました" in response.content.decode()
    preferences = license_selectors.customer_preferences(user=license.owner)
    assert preferences.reminders_opt_out
    assert preferences.reminders_opted_out_at is not None

    license_expiring(on + dt.timedelta(days=7), product=product, owner=license.owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_reminders(on=on).queued == 0
    assert len(mailoutbox) == 1


def test_the_unsubscribe_page_turns_reminders_back_on(license, client):
    path = reverse("reminders:unsubscribe", args=[links.unsubscribe_token(user=license.owner)])
    client.post(path, {"action": "unsubscribe"})
    assert license_selectors.customer_preferences(user=license.owner).reminders_opt_out

    response = client.post(path, {"action": "resubscribe"})

    assert "再開しました" in response.content.decode()
    assert not license_selectors.customer_preferences(user=license.owner).reminders_opt_out


def test_a_forged_unsubscribe_link_gets_a_clear_page_and_changes_nothing(license, client):
    token = links.unsubscribe_token(user=license.owner)
    user_id = token.split(":")[0]
    for bad in (f"{int(user_id) + 1}:{token.split(':')[1]}", "1:nope", "garbage"):
        path = reverse("reminders:unsubscribe", args=[bad])
        for response in (client.get(path), client.post(path)):
            assert response.status_code == 404
            assert "このリンクは無効です" in response.content.decode()
    assert not license_selectors.customer_preferences(user=license.owner).reminders_opt_out


def test_the_english_unsubscribe_page(license, client):
    path = reverse("reminders:unsubscribe", args=[links.unsubscribe_token(user=license.owner)])
    response = client.post("/en" + path, {"action": "unsubscribe"})
    assert "No more expiry reminders will be sent to" in response.content.decode()
