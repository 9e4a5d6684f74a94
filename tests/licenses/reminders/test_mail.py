"""The reminder mail (DESIGN 8): what it says, in the customer's language, with its links."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from licenses.models import PriceKind, Product, RenewalPath
from licenses.reminders.services import send_expiry_reminder
from tests.factories import PriceFactory, ProductFactory, RenewalPathFactory
from tests.helpers.orders import priced_product
from tests.helpers.reminders import cloud_product, html_part, license_expiring

pytestmark = pytest.mark.django_db


def remind(license, offset):
    """Send the reminder the sweep queues for ``license`` at ``offset`` and return the mail."""
    before = len(mail.outbox)
    assert send_expiry_reminder(license.pk, license.expires_on.isoformat(), offset) is True
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def test_japanese_reminder_shows_product_expiry_days_left_choices_and_renew_button(mailoutbox):
    license = license_expiring(in_days(14), product=cloud_product(), language="ja")
    message = remind(license, 14)
    html = html_part(message)
    date = license.expires_on.strftime("%Y-%m-%d")

    assert (
        message.subject == f"[まもりストア] ライセンスの有効期限まであと14日です ({license.serial})"
    )
    for part in (message.body, html):
        assert "まもり クラウド" in part
        assert license.serial in part
        assert f"{date}（あと14日）" in part
        assert "今すぐ更新" in part
        assert "¥4,790" in part and "¥8,990" in part and "¥11,980" in part
        assert "/renew/mail/" in part
        assert "/reminders/unsubscribe/" in part
    assert "/en/" not in message.body
    assert re.search(r'<a href="http://[^"]+/renew/mail/[^"]+"[^>]*>今すぐ更新</a>', html)


def test_english_reminder_for_a_customer_whose_language_is_english(mailoutbox):
    license = license_expiring(in_days(1), product=cloud_product(), language="en")
    message = remind(license, 1)
    html = html_part(message)

    assert message.subject == f"[まもりストア] Your license expires in 1 day ({license.serial})"
    for part in (message.body, html):
        assert "Mamori Cloud" in part
        assert "in 1 day." in part
        assert "Renew now" in part
        assert "/en/renew/mail/" in part
        assert "/en/reminders/unsubscribe/" in part
        assert "まもり クラウド" not in part
    assert "Dear 花子 山田," in message.body


def test_reminder_on_the_expiry_date_says_today(mailoutbox):
    license = license_expiring(in_days(0), product=cloud_product(), language="en")
    message = remind(license, 0)
    assert "expires today" in message.subject
    assert "Your license expires today" in message.body


def test_K10_reminder_before_expiry_says_the_days_left_are_kept(mailoutbox):
    license = license_expiring(in_days(30), product=cloud_product(), language="en")
    message = remind(license, 30)
    assert "Renewing early loses nothing" in message.body
    assert "the days you have left are kept" in message.body
    # Terms run from the current expiry date.
    new_expiry = license.expires_on.replace(year=license.expires_on.year + 1)
    assert new_expiry.strftime("%Y-%m-%d") in message.body


def test_K10_reminder_after_expiry_says_what_stopped_and_that_renewing_now_loses_nothing(
    mailoutbox,
):
    license = license_expiring(in_days(-7), product=cloud_product(), language="en")
    message = remind(license, -7)
    html = html_part(message)

    assert "Your license expired 7 days ago" in message.subject
    for part in (message.body, html):
        assert "expired on" in part and "7 days ago" in part
        assert "its protection has stopped" in part
        assert "Renewing now loses nothing" in part
    # After expiry a renewal runs from the payment day, i.e. from today.
    from_today = timezone.localdate().replace(year=timezone.localdate().year + 1)
    assert from_today.strftime("%Y-%m-%d") in message.body


def test_K10_japanese_reminder_after_expiry(mailoutbox):
    license = license_expiring(in_days(-30), product=cloud_product(), language="ja")
    message = remind(license, -30)
    assert "有効期限が切れています" in message.subject
    assert "30日" in message.subject
    assert "保護が停止" in message.body
    assert "損はありません" in message.body


def test_J1_reminder_prices_include_tax_and_show_the_tax_and_the_price_per_year(mailoutbox):
    license = license_expiring(in_days(7), product=cloud_product(), language="en")
    message = remind(license, 7)
    html = html_part(message)
    for part in (message.body, html):
        assert "prices include 10% consumption tax" in part
        assert "¥4,790" in part and "incl. tax ¥435" in part  # 4,790 × 10 / 110, rounded down
        assert "¥11,980" in part and "incl. tax ¥1,089" in part
        assert "Per year ¥3,993" in part or "¥3,993" in part  # 11,980 / 3


def test_T3_reminder_lists_every_renewal_choice_of_the_license(mailoutbox):
    cloud = cloud_product()
    total = priced_product(
        line=Product.Line.TOTAL_SECURITY,
        edition=Product.Edition.PREMIUM,
        name_ja="まもり トータルセキュリティ プレミアム",
        name_en="Mamori Total Security Premium",
    )
    RenewalPathFactory(from_product=cloud, to_product=total, kind=RenewalPath.Kind.UPGRADE)
    legacy = ProductFactory(name_en="Mamori Legacy", sellable=False)
    PriceFactory(product=legacy, kind=PriceKind.RENEWAL)
    RenewalPathFactory(from_product=cloud, to_product=legacy, kind=RenewalPath.Kind.CROSSGRADE)
    license = license_expiring(in_days(14), product=cloud, language="en")

    html = html_part(remind(license, 14))

    assert "Mamori Cloud" in html
    assert "Mamori Total Security Premium" in html and "(Upgrade)" in html
    assert "Mamori Legacy" not in html  # not sold: not a choice (K5)


def test_K2_twin_pack_reminder_compares_the_alternatives_with_prices_per_year(mailoutbox):
    twin = ProductFactory(
        line=Product.Line.MULTI_PLATFORM,
        edition=Product.Edition.TWIN_PACK,
        renewable=False,
        name_en="Mamori Twin Pack",
    )
    PriceFactory(product=twin, kind=PriceKind.NEW, term_years=1, amount=5980)
    three = ProductFactory(edition=Product.Edition.THREE_DEVICE, name_en="Mamori 3-device")
    private = ProductFactory(
        edition=Product.Edition.PRIVATE, seat_limit=None, name_en="Mamori Private"
    )
    for product, amounts in ((three, (5480, 9980, 13480)), (private, (6480, 11780, 15980))):
        for term, amount in enumerate(amounts, start=1):
            PriceFactory(product=product, kind=PriceKind.RENEWAL, term_years=term, amount=amount)
    RenewalPathFactory(
        from_product=twin, to_product=twin, kind=RenewalPath.Kind.SAME, price_kind=PriceKind.NEW
    )
    RenewalPathFactory(from_product=twin, to_product=three, kind=RenewalPath.Kind.CROSSGRADE)
    RenewalPathFactory(from_product=twin, to_product=private, kind=RenewalPath.Kind.CROSSGRADE)
    license = license_expiring(in_days(7), product=twin, language="en")

    message = remind(license, 7)
    html = html_part(message)

    assert "There is no renewal for the twin pack" in message.body
    assert "two people shared it" in html
    for name in ("Mamori Twin Pack", "Mamori 3-device", "Mamori Private"):
        assert name in html
    assert "New purchase" in html
    assert "Per year ¥5,326" in html  # private edition, 3 years: 15,980 / 3, the cheapest per year
    assert "Per year ¥4,493" in html  # 3-device edition, 3 years


def test_reminder_carries_the_one_click_unsubscribe_headers_of_RFC_8058(mailoutbox):
    license = license_expiring(in_days(7), product=cloud_product())
    message = remind(license, 7).message()

    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<http://[^>]+/reminders/unsubscribe/[^>]+/>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in message.as_string() or "unsubscribe" in message.as_string()
    assert message.get_content_type() == "multipart/alternative"


def test_the_record_names_the_language_and_address_the_reminder_went_to(mailoutbox):
    license = license_expiring(in_days(7), product=cloud_product(), language="en")
    remind(license, 7)
    record = license.reminders_sent.get()
    assert (record.to, record.language, record.offset_days) == (license.owner.email, "en", 7)
    assert record.expires_on == license.expires_on
