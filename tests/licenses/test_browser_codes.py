"""Adding codes in Chromium (K5–K7), in both languages, with the screenshots of docs/screenshots;
and the API docs page rendering with nothing loaded from outside."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from licenses.dates import add_years
from licenses.models import ActivationCode, Device, License, Platform, ReserveLicense
from licenses.redemption import add_code
from licenses.services import create_customer
from tests.factories import DeviceFactory
from tests.helpers.codes import internet_security_2011, license_with, new_code
from tests.plugins.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse 42"


def prefix(language: str) -> str:
    return "" if language == "ja" else "/en"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_K6_K7_adding_codes_in_the_browser(live_server, page, language):
    hanako = create_customer(email="hanako@example.com", password=PASSWORD)
    windows, windows_device = license_with(days_left=200, owner=hanako, platform=Platform.WINDOWS)
    seen = timezone.now() - dt.timedelta(hours=5)
    Device.objects.filter(pk=windows_device.pk).update(last_seen_at=seen)
    DeviceFactory(
        license=windows,
        name="MacBook",
        platform=Platform.MAC,
        program_generation=2013,
        program_version="14.0.1.46",
        last_seen_at=seen - dt.timedelta(days=2),
    )
    DeviceFactory(
        license=windows,
        name="Android スマホ",
        platform=Platform.ANDROID,
        program_generation=2013,
        program_version="11.2.4",
        last_seen_at=None,
    )
    old, _old_device = license_with(
        days_left=20, owner=hanako, product=internet_security_2011(), generation=2011
    )
    android, _android_device = license_with(days_left=25, owner=hanako, platform=Platform.ANDROID)
    login(page, live_server.url, "hanako@example.com", PASSWORD)
    base = f"{live_server.url}{prefix(language)}/licenses"

    # The form, then K7 Windows: kept as a reserve license, shown on the page.
    page.goto(f"{base}/{windows.serial}/#codes")
    expect(page.locator("#codes h2")).to_be_visible()
    screenshot(page, f"license-add-code-{language}")
    page.locator("#id_activation_code").fill(new_code().code.lower().replace("-", ""))
    page.locator("#id_device").select_option(str(windows_device.pk))
    page.locator(".add-code-form button[type=submit]").click()
    expect(page.locator("#reserve")).to_be_visible()
    expect(page.locator(".message")).to_contain_text(f"{windows.expires_on:%Y-%m-%d}")
    screenshot(page, f"license-reserve-{language}")

    # K6: the two-week warning; Cancel has the focus, Enter cancels.
    k6_code = new_code(internet_security_2011())
    page.goto(f"{base}/{old.serial}/")
    page.locator("#id_activation_code").fill(k6_code.code)
    page.locator(".add-code-form button[type=submit]").click()
    expect(page.locator("#confirm-loss")).to_have_attribute("data-reason", "two_week_warning")
    expect(page.locator("#cancel")).to_be_focused()
    screenshot(page, f"license-code-k6-warning-{language}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/{old.serial}/#codes")
    k6_code.refresh_from_db()
    assert k6_code.state == ActivationCode.State.ISSUED

    # K7 Android: the days lost; the box must be ticked before the code replaces the period.
    page.goto(f"{base}/{android.serial}/")
    page.locator("#id_activation_code").fill(new_code().code)
    page.locator(".add-code-form button[type=submit]").click()
    expect(page.locator(".days-lost")).to_contain_text("24")
    expect(page.locator("#cancel")).to_be_focused()
    screenshot(page, f"license-code-android-confirm-{language}")
    page.locator(".confirm-form button[type=submit]").click()  # not ticked: the browser holds it
    expect(page.locator("#confirm-loss")).to_be_visible()
    page.locator("#id_confirm").check()
    page.locator(".confirm-form button[type=submit]").click()
    page.wait_for_url(f"{base}/{android.serial}/#codes")
    android.refresh_from_db()
    assert android.expires_on == add_years(timezone.localdate(), 1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_K7_mac_switch_now_on_the_expiry_date_in_the_browser(live_server, page, language):
    hanako = create_customer(email="hanako@example.com", password=PASSWORD)
    mac, mac_device = license_with(days_left=1, owner=hanako, platform=Platform.MAC)
    add_code(
        license=mac,
        device=mac_device,
        code=new_code().code,
        account="",
        address="",
        today=mac.expires_on - dt.timedelta(days=10),
    )
    login(page, live_server.url, "hanako@example.com", PASSWORD)

    page.goto(f"{live_server.url}{prefix(language)}/licenses/{mac.serial}/#codes")
    expect(page.locator("#reserve.reserve-due")).to_be_visible()
    screenshot(page, f"license-mac-switch-{language}")
    page.locator("#reserve button[type=submit]").click()

    expect(page.locator(".message")).to_be_visible()
    assert ReserveLicense.objects.get(license=mac).state == "switched"
    assert License.objects.get(pk=mac.pk).expires_on > mac.expires_on


def test_api_docs_render_offline_in_chromium(live_server, page):
    """Every request the docs page makes goes to this site, and each one succeeds."""
    requests, failures = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failures.append(request.url))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and failures.append(f"{response.status} {response.url}")
        ),
    )

    page.goto(f"{live_server.url}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Mamori Store program API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/license/codes/")).to_be_visible()
    assert failures == []
    assert len(requests) >= 4
    assert all(url.startswith(live_server.url) for url in requests), requests
