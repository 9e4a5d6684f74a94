"""Adding an activation code on the license page (K4–K8, DESIGN 6b).

The installation picked on the form decides K6/K7; every rule below has its twin through the
program's API in ``tests/licenses/api/test_program_api.py``.
"""

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from licenses.dates import add_years
from licenses.models import ActivationCode, LicenseEvent, Platform, ReserveLicense
from tests.factories import DeviceFactory, LicenseFactory
from tests.helpers.codes import (
    cloud,
    internet_security_2011,
    license_with,
    multi_platform,
    new_code,
)
from tests.helpers.threads import run_together

pytestmark = pytest.mark.django_db


def add(client, license, device, code, **extra):
    return client.post(
        reverse("licenses:add_code", args=[license.serial]),
        {"activation_code": code, "device": device.pk, **extra},
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def ledger(license, kind=LicenseEvent.Kind.CODE_ADDED):
    return list(LicenseEvent.objects.filter(license=license, kind=kind))


# --- K4: what the customer types ----------------------------------------------------------------


def test_K4_code_typed_full_width_lower_case_and_without_hyphens_is_accepted(
    customer_client, customer
):
    license, device = license_with(days_left=1, owner=customer)  # the expiry date: applied now
    code = new_code()
    typed = code.code.replace("-", "").lower()
    typed = typed[:5] + " " + typed[5:]
    full_width = typed.translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789abcdefghijklmnopqrstuvwxyz"}
    )

    response = add(customer_client, license, device, full_width)

    assert response.status_code == 302
    code.refresh_from_db()
    assert code.state == ActivationCode.State.REDEEMED and code.license == license


def test_K4_a_code_of_the_wrong_length_says_exactly_what_is_wrong(customer_client, customer):
    license, device = license_with(days_left=100, owner=customer)

    response = add(customer_client, license, device, "01234-56789-ABCDE")

    assert response.status_code == 200
    assert "20文字" in page_text(response) and "15文字" in page_text(response)


def test_K4_an_unknown_code_is_invalid_with_look_alike_hints_and_counts_as_a_failure(
    customer_client, customer, settings
):
    settings.CODE_THROTTLE_PER_ACCOUNT = 2
    license, device = license_with(days_left=100, owner=customer)
    real = new_code()

    first = add(customer_client, license, device, "ZZZZZ-55555-BBBBB-00000")
    text = page_text(first)
    assert "無効なアクティベーションコード" in text
    assert "「2」と「Z」" in text and "「5」と「S」" in text and "「0」と「O」" in text

    add(customer_client, license, device, "ZZZZZ-55555-BBBBB-00001")
    # Two failures: even the right code is refused until the window ends.
    blocked = add(customer_client, license, device, real.code)
    assert "15分" in page_text(blocked)
    real.refresh_from_db()
    assert real.state == ActivationCode.State.ISSUED


def test_K4_a_code_added_to_another_license_answers_like_an_unknown_code(customer_client, customer):
    license, device = license_with(days_left=100, owner=customer)
    theirs = LicenseFactory()
    used = new_code()
    ActivationCode.objects.filter(pk=used.pk).update(
        state="redeemed", license=theirs, redeemed_at=timezone.now()
    )
    unknown = add(customer_client, license, device, "QQQQQ-QQQQQ-QQQQQ-QQQQQ")
    response = add(customer_client, license, device, used.code)

    assert "無効なアクティベーションコード" in page_text(response)
    first_error = re.search(r'class="form-errors".*?<li>(.*?)</li>', page_text(response)).group(1)
    assert first_error == re.search(
        r'class="form-errors".*?<li>(.*?)</li>', page_text(unknown)
    ).group(1)


def test_a_code_is_added_once(customer_client, customer):
    license, device = license_with(days_left=1, owner=customer)
    code = new_code()
    add(customer_client, license, device, code.code)

    again = add(customer_client, license, device, code.code)

    assert "すでにこのライセンスに追加されています" in page_text(again)
    assert len(ledger(license)) == 1


# --- K8: a newly bought product's code ----------------------------------------------------------


def test_K8_a_new_products_code_of_the_same_line_extends_by_its_term_with_a_ledger_row(
    customer_client, customer
):
    """On the expiry date nothing can be lost: applied at once, from the expiry date (K10)."""
    license, device = license_with(days_left=1, owner=customer)
    old_expiry = license.expires_on
    private = multi_platform("private")
    code = new_code(private, term_years=3)

    response = add(customer_client, license, device, code.code)

    assert response.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == add_years(old_expiry, 3)
    assert license.product == private
    (event,) = ledger(license)
    assert event.activation_code == code
    assert (event.old_expires_on, event.new_expires_on) == (old_expiry, license.expires_on)
    assert event.actor == customer
    follow = customer_client.get(response["Location"])
    assert '<td data-label="内容">アクティベーションコード追加</td>' in page_text(follow)  # history


def test_K8_on_an_expired_license_the_new_period_starts_today(customer_client, customer):
    license, device = license_with(days_left=-30, owner=customer, platform=Platform.ANDROID)
    code = new_code()

    add(customer_client, license, device, code.code)

    license.refresh_from_db()
    assert license.expires_on == add_years(timezone.localdate(), 1)


def test_K8_a_code_of_another_product_line_is_refused_and_says_why(customer_client, customer):
    license, device = license_with(days_left=1, owner=customer)
    code = new_code(cloud())

    response = add(customer_client, license, device, code.code)

    text = page_text(response)
    assert "別の製品ライン" in text and code.product.name_ja in text
    code.refresh_from_db()
    assert code.state == ActivationCode.State.ISSUED
    assert ledger(license) == []


# --- K5: old program versions -------------------------------------------------------------------


def test_K5_a_code_is_refused_for_an_installation_on_an_old_version_with_the_version_up_steps(
    customer_client, customer
):
    license, device = license_with(
        days_left=1, owner=customer, product=internet_security_2011(), generation=2011
    )
    renewal = new_code(multi_platform())  # the current renewal, for a newer program

    response = add(customer_client, license, device, renewal.code)

    text = page_text(response)
    assert "旧バージョン" in text
    assert 'class="version-up-steps"' in text and "最新版のプログラムをダウンロード" in text
    assert "新しいアクティベーションコードをプログラムまたはこのページで追加する" in text
    renewal.refresh_from_db()
    assert renewal.state == ActivationCode.State.ISSUED
    license.refresh_from_db()
    assert license.product.code == "is-2011"


def test_K5_after_the_version_up_the_same_code_is_added(customer_client, customer):
    license, device = license_with(
        days_left=1, owner=customer, product=internet_security_2011(), generation=2011
    )
    renewal = new_code(multi_platform())
    device.program_generation, device.program_version = 2013, "14.0.0.4651"
    device.save()

    response = add(customer_client, license, device, renewal.code)

    assert response.status_code == 302
    license.refresh_from_db()
    assert license.product == multi_platform()


# --- K6: the two-week warning of the 2011 generation --------------------------------------------


def test_K6_2011_program_with_14_days_left_warns_and_cancel_is_the_default(
    customer_client, customer
):
    license, device = license_with(
        days_left=14, owner=customer, product=internet_security_2011(), generation=2011
    )
    code = new_code(internet_security_2011())  # a 2011 package: its own generation

    response = add(customer_client, license, device, code.code)

    text = page_text(response)
    assert 'data-reason="two_week_warning"' in text
    assert "あと14日" in text and "13日分が失われます" in text
    assert "残りが14日未満になってから" in text
    cancel = re.search(r'<a [^>]*id="cancel"[^>]*>', text).group(0)
    assert "autofocus" in cancel and "primary" in cancel
    assert reverse("licenses:detail", args=[license.serial]) in cancel
    assert re.search(r'<input type="checkbox" name="confirm"[^>]*required', text)
    code.refresh_from_db()
    assert code.state == ActivationCode.State.ISSUED


def test_K6_2011_program_with_13_days_left_adds_without_a_warning(customer_client, customer):
    license, device = license_with(
        days_left=13, owner=customer, product=internet_security_2011(), generation=2011
    )
    expires_on = license.expires_on
    code = new_code(internet_security_2011())

    response = add(customer_client, license, device, code.code)

    assert response.status_code == 302
    assert "two_week_warning" not in page_text(customer_client.get(response["Location"]))
    # Fewer than 14 days: Windows keeps it as a reserve, nothing is lost.
    reserve = ReserveLicense.objects.get(license=license)
    assert reserve.switch == ReserveLicense.Switch.AUTOMATIC
    license.refresh_from_db()
    assert license.expires_on == expires_on


def test_K6_confirmed_warning_replaces_the_current_period(customer_client, customer):
    license, device = license_with(
        days_left=20, owner=customer, product=internet_security_2011(), generation=2011
    )
    code = new_code(internet_security_2011())

    response = add(customer_client, license, device, code.code, confirm="on", step="confirm")

    assert response.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == add_years(timezone.localdate(), 1)
    (event,) = ledger(license)
    assert "19 days" in event.note


# --- K7: by platform ----------------------------------------------------------------------------


def test_K7_windows_code_becomes_a_reserve_license_shown_on_the_license_page(
    customer_client, customer
):
    license, device = license_with(days_left=200, owner=customer, platform=Platform.WINDOWS)
    expires_on = license.expires_on
    code = new_code()

    response = add(customer_client, license, device, code.code)

    assert response.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == expires_on  # nothing changes until the expiry date
    reserve = ReserveLicense.objects.get(license=license)
    assert (reserve.state, reserve.switch, reserve.device) == ("waiting", "automatic", device)
    assert reserve.event is None and ledger(license) == []
    page = page_text(customer_client.get(response["Location"]))
    assert 'id="reserve"' in page and "予約ライセンス" in page
    assert f"{expires_on:%Y-%m-%d} に自動で切り替わります" in page
    # One code waits at a time.
    assert 'class="form add-code-form"' not in page


def test_K7_a_second_code_while_a_reserve_waits_is_refused(customer_client, customer):
    license, device = license_with(days_left=200, owner=customer)
    add(customer_client, license, device, new_code().code)
    second = new_code()

    response = add(customer_client, license, device, second.code)

    assert "すでに登録されています" in page_text(response)
    second.refresh_from_db()
    assert second.state == ActivationCode.State.ISSUED


def test_K7_mac_code_is_registered_and_switch_now_is_offered_from_the_expiry_date_only(
    customer_client, customer
):
    license, device = license_with(days_left=3, owner=customer, platform=Platform.MAC)
    expires_on = license.expires_on
    add(customer_client, license, device, new_code().code)
    reserve = ReserveLicense.objects.get(license=license)
    assert reserve.switch == ReserveLicense.Switch.MANUAL

    before = page_text(customer_client.get(reverse("licenses:detail", args=[license.serial])))
    assert "今すぐ切り替える</button>" not in before
    assert f"{expires_on:%Y-%m-%d} にこの欄に「今すぐ切り替える」ボタンが表示され" in before
    early = customer_client.post(
        reverse("licenses:switch_reserve", args=[license.serial]), follow=True
    )
    assert "有効期限日の" in page_text(early)
    reserve.refresh_from_db()
    assert reserve.state == "waiting"

    # The expiry date has come (the license is made to expire today).
    type(license).objects.filter(pk=license.pk).update(expires_on=timezone.localdate())
    on_the_day = page_text(customer_client.get(reverse("licenses:detail", args=[license.serial])))
    assert "今すぐ切り替える</button>" in on_the_day
    customer_client.post(reverse("licenses:switch_reserve", args=[license.serial]))
    license.refresh_from_db()
    assert license.expires_on == add_years(timezone.localdate(), 1)
    reserve.refresh_from_db()
    assert reserve.state == "switched" and reserve.event.kind == "reserve_switched"


def test_K7_android_shows_the_days_lost_and_requires_explicit_confirmation(
    customer_client, customer
):
    license, device = license_with(days_left=25, owner=customer, platform=Platform.ANDROID)
    expires_on = license.expires_on
    code = new_code()

    asked = add(customer_client, license, device, code.code)
    text = page_text(asked)
    assert 'data-reason="replaces_current_period"' in text
    assert "24日" in text and "有効期限日 (" in text and f"{expires_on:%Y-%m-%d}" in text
    assert 'id="cancel"' in text and "autofocus" in text

    # Submitted without ticking the box: still the confirmation, nothing changed.
    not_ticked = add(customer_client, license, device, code.code, step="confirm")
    assert "確認のチェックを入れるか" in page_text(not_ticked)
    license.refresh_from_db()
    assert license.expires_on == expires_on

    confirmed = add(customer_client, license, device, code.code, step="confirm", confirm="on")
    assert confirmed.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == add_years(timezone.localdate(), 1)
    (event,) = ledger(license)
    assert event.old_expires_on == expires_on and event.activation_code == code


def test_K7_on_the_expiry_date_android_adds_without_losing_anything(customer_client, customer):
    license, device = license_with(days_left=1, owner=customer, platform=Platform.ANDROID)
    expires_on = license.expires_on

    response = add(customer_client, license, device, new_code().code)

    assert response.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == add_years(expires_on, 1)


# --- Concurrency: one code, one success ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_code_posted_from_two_tabs_at_once_is_added_once(customer):
    license, device = license_with(days_left=1, owner=customer)
    code = new_code()

    def tab():
        client = Client()
        client.force_login(customer)
        return add(client, license, device, code.code).status_code

    statuses, _errors = run_together(tab, tab)

    assert sorted(statuses) == [200, 302]
    assert LicenseEvent.objects.filter(activation_code=code).count() == 1
    license.refresh_from_db()
    assert license.expires_on == add_years(timezone.localdate(), 1)


@pytest.mark.django_db(transaction=True)
def test_one_code_added_to_two_licenses_at_once_goes_to_one(customer, other_customer):
    code = new_code()
    first, first_device = license_with(days_left=200, owner=customer)
    second, second_device = license_with(days_left=200, owner=other_customer)

    def device_tab(owner, license, device):
        def post():
            client = Client()
            client.force_login(owner)
            return add(client, license, device, code.code).status_code

        return post

    statuses, _errors = run_together(
        device_tab(customer, first, first_device), device_tab(other_customer, second, second_device)
    )

    assert sorted(statuses) == [200, 302]
    assert ReserveLicense.objects.filter(activation_code=code).count() == 1
    code.refresh_from_db()
    assert code.license in (first, second)


# --- The page around it -------------------------------------------------------------------------


def test_the_license_page_shows_each_installations_version_and_last_seen_time(
    customer_client, customer
):
    license, device = license_with(days_left=100, owner=customer)
    device.last_seen_at = dt.datetime(2026, 11, 3, 9, 41, tzinfo=dt.UTC)
    device.save()

    text = page_text(customer_client.get(reverse("licenses:detail", args=[license.serial])))

    assert "最終接続" in text and "2026-11-03 18:41" in text and device.program_version in text


def test_add_code_to_someone_elses_license_is_404(customer_client, other_customer):
    theirs, device = license_with(days_left=1, owner=other_customer)
    code = new_code()

    assert add(customer_client, theirs, device, code.code).status_code == 404
    code.refresh_from_db()
    assert code.state == ActivationCode.State.ISSUED


def test_an_installation_of_another_license_is_a_form_error_not_a_500(customer_client, customer):
    license, _device = license_with(days_left=1, owner=customer)
    stranger = DeviceFactory()

    response = add(customer_client, license, stranger, new_code().code)

    assert response.status_code == 200
    assert "正しく選択してください" in page_text(response)


def test_a_license_without_installations_explains_how_to_get_one(customer_client, customer):
    license = LicenseFactory(owner=customer)

    text = page_text(customer_client.get(reverse("licenses:detail", args=[license.serial])))

    assert "まずお使いの端末でプログラムを" in text
    assert 'class="form add-code-form"' not in text


# --- Help and the version-up steps (DESIGN 6b: shop renewals extend directly) -------------------


def test_help_describes_adding_codes_by_platform_and_never_a_code_after_a_shop_renewal(client):
    text = page_text(client.get("/en/help/"))

    assert "there is no activation code to add" in text
    assert "there is no code to add" in text  # the version-up steps after a renewal
    for rule in (
        "Windows: nothing is lost",
        "Mac: the code is registered in advance",
        "Android: adding the code replaces",
        "2011 generation programs",
    ):
        assert rule in text
    for wrong in (
        "activation code of your renewal",
        "add the renewal",
        "and add it to the program",
    ):
        assert wrong not in text


def test_version_up_steps_end_with_adding_the_code_only_where_a_code_is_added():
    after_renewal = render_to_string("includes/version_up_steps.html")
    before_a_code = render_to_string("includes/version_up_steps.html", {"then_add_code": True})

    assert "追加するコードはありません" in after_renewal
    assert "新しいアクティベーションコード" not in after_renewal
    assert "新しいアクティベーションコード" in before_a_code
