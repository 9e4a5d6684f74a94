"""Smoke tests through a real browser: language by URL, the language switch, signing in."""

import pytest
from playwright.sync_api import expect

from licenses.services import create_customer
from tests.plugins.browser import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_is_japanese_at_root(live_server, page):
    page.goto(f"{live_server.url}/")

    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".brand")).to_contain_text("まもりストア")
    expect(page.locator(".main-nav")).to_contain_text("ヘルプ")
    # On the Japanese page the switch offers English, named in English.
    expect(page.locator(".lang-switch button[name=language]")).to_have_text("English")
    expect(page.locator("h1")).to_be_visible()
    screenshot(page, "home-ja")


def test_home_page_is_english_under_en(live_server, page):
    page.goto(f"{live_server.url}/en/")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Renew your security license")
    expect(page.locator(".lang-switch button[name=language]")).to_have_text("日本語")
    expect(page.locator(".main-nav")).not_to_contain_text("ヘルプ")
    screenshot(page, "home-en")


def test_language_switch_goes_to_english_help_and_back(live_server, page):
    page.goto(f"{live_server.url}/help/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    page.locator(".lang-switch button[value=en]").click()
    page.wait_for_url(f"{live_server.url}/en/help/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator(".lang-switch button[value=ja]").click()
    page.wait_for_url(f"{live_server.url}/help/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_customer_signs_in_and_lands_on_licenses(live_server, page):
    # An ORM call in the same thread as Playwright's event loop: works only because the plugin
    # sets DJANGO_ALLOW_ASYNC_UNSAFE.
    create_customer(email="hanako@example.com", password="correct horse 42")

    page.goto(f"{live_server.url}/licenses/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/licenses/")

    login(page, live_server.url, "Hanako@Example.com", "correct horse 42")

    page.wait_for_url(f"{live_server.url}/licenses/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("form[action$='/accounts/logout/'] button")).to_be_visible()


def test_wrong_password_stays_on_login_with_an_error(live_server, page):
    create_customer(email="taro@example.com", password="correct horse 42")

    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("taro@example.com")
    page.locator("input[name=password]").fill("wrong")
    page.locator("form.form button[type=submit]").click()

    expect(page.locator(".form-errors[role=alert]")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
