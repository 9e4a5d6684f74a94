"""A reminder mail opened in Chromium: "Renew now" opens the choice page signed out, the
unsubscribe link stops the reminders; the account page switches them. Both languages; the
screenshots go to docs/screenshots/."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from licenses.reminders.services import send_expiry_reminder
from licenses.selectors import customer_preferences
from tests.helpers.reminders import cloud_product, html_part, license_expiring
from tests.plugins.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-2026"


def open_mail(page, license, offset):
    """Send the reminder and show its HTML part in the browser, as a mail client would."""
    assert send_expiry_reminder(license.pk, license.expires_on.isoformat(), offset)
    page.set_content(html_part(mail.outbox[-1]))


def test_japanese_reminder_renews_signed_out_and_unsubscribes_in_one_click(
    page, live_server, settings, mailoutbox
):
    settings.SITE_URL = live_server.url
    license = license_expiring(
        timezone.localdate() + dt.timedelta(days=14), product=cloud_product(), language="ja"
    )

    open_mail(page, license, 14)
    expect(page.get_by_text("あと14日")).to_be_visible()
    screenshot(page, "reminder-mail-ja")
    page.get_by_role("link", name="今すぐ更新").click()

    expect(page.get_by_role("heading", name="更新内容の選択")).to_be_visible()
    expect(page.get_by_text(license.serial)).to_be_visible()
    expect(page.get_by_text("¥11,980").first).to_be_visible()
    expect(page.get_by_role("link", name="ログイン")).to_be_visible()  # still signed out

    page.set_content(html_part(mail.outbox[-1]))  # back to the mail
    page.get_by_role("link", name="有効期限のお知らせを停止する (ワンクリック)").click()
    expect(page.get_by_role("heading", name="有効期限のお知らせ")).to_be_visible()
    page.get_by_role("button", name="有効期限のお知らせを停止する").click()
    expect(page.get_by_text("への有効期限のお知らせを停止しました")).to_be_visible()
    screenshot(page, "reminder-unsubscribed-ja")
    assert customer_preferences(user=license.owner).reminders_opt_out


def test_english_reminder_after_expiry_and_its_unsubscribe_page(
    page, live_server, settings, mailoutbox
):
    settings.SITE_URL = live_server.url
    license = license_expiring(
        timezone.localdate() - dt.timedelta(days=7), product=cloud_product(), language="en"
    )

    open_mail(page, license, -7)
    expect(page.get_by_text("7 days ago")).to_be_visible()
    expect(page.get_by_text("its protection has stopped")).to_be_visible()
    screenshot(page, "reminder-mail-en")
    page.get_by_role("link", name="Stop expiry reminders (one click)").click()

    expect(page.get_by_role("button", name="Stop expiry reminders")).to_be_visible()
    screenshot(page, "reminder-unsubscribe-en")


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_account_page_switches_expiry_reminders(page, live_server, customer, prefix):
    login(page, live_server.url, customer.email, PASSWORD)
    page.goto(f"{live_server.url}{prefix}/account/")
    checkbox = page.locator("input[name=reminders]")
    expect(checkbox).to_be_checked()
    screenshot(page, f"account{prefix.replace('/', '-') or '-ja'}")

    checkbox.uncheck()
    page.locator("#mail-settings button[type=submit]").click()

    expect(page.locator(".message")).to_be_visible()
    expect(page.locator("input[name=reminders]")).not_to_be_checked()
    assert customer_preferences(user=customer).reminders_opt_out
