"""Smartphone first: every customer page at 360 x 740 in Chromium, in both languages.

For each page: the document is no wider than the viewport (no horizontal scrolling of the page),
the page's primary action lies inside the viewport's width, and a screenshot goes to
``docs/screenshots/phone-<page>-<language>.png`` (shown in README beside the desktop ones).
The demo data (``licenses.demo``) gives the pages their realistic content: long product names,
twin packs, version-ups, devices. Checkout pages use localstripe; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Page, expect

from licenses.demo import demo_extra_code, load_demo_data
from licenses.models import Device, License, RenewalPath
from licenses.reminders.links import unsubscribe_token
from orders import services
from orders.models import Order
from tests.helpers.orders import add_card
from tests.helpers.stripe import OK, THREE_DS
from tests.plugins.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
DEMO = "demo@example.com"


@dataclass(frozen=True)
class Shown:
    """Where a page is and what its primary action is (a CSS selector, the first match)."""

    path: str
    primary: str
    signed_in: bool = True


def demo_customer():
    return get_user_model().objects.get(email=DEMO)


def order_of(serial: str, *, term_years: int = 1) -> Order:
    license = License.objects.get(serial=serial)
    path = RenewalPath.objects.get(from_product=license.product, kind=RenewalPath.Kind.SAME)
    return services.start_order(
        license=license, path_id=path.pk, term_years=term_years, customer=demo_customer()
    )


def paid_order(*, keep_card: bool = False) -> Order:
    order = order_of("MAMO-DEMO-0007-CLOD")
    add_card(order, OK, email=DEMO, keep_card=keep_card)
    services.confirm_order(order=order)  # tasks run eagerly (conftest): paid and fulfilled
    order.refresh_from_db()
    return order


PAGES: dict[str, Callable[[], Shown]] = {
    "home": lambda: Shown("/", ".hero .button.primary", signed_in=False),
    "home-signed-in": lambda: Shown("/", ".hero .button.primary"),
    "login": lambda: Shown("/accounts/login/", "form.form button[type=submit]", signed_in=False),
    "signup": lambda: Shown("/accounts/signup/", "form.form button[type=submit]", signed_in=False),
    "password-reset": lambda: Shown(
        "/accounts/password_reset/", "main form button[type=submit]", signed_in=False
    ),
    "renew-entry": lambda: Shown("/renew/", "form button.primary", signed_in=False),
    "licenses": lambda: Shown("/licenses/", "a.button.primary[href*='/renew/']"),
    "license": lambda: Shown("/licenses/MAMO-DEMO-0002-3DEV/", "a.button.primary"),
    "license-add-code": lambda: Shown("/licenses/MAMO-DEMO-0006-ANDR/", "#codes button.primary"),
    "auto-renewal": lambda: Shown("/licenses/MAMO-DEMO-0002-3DEV/auto-renewal/", "#next-button"),
    "choose": lambda: Shown("/renew/MAMO-DEMO-0008-TSST/", "table.terms button.primary"),
    "choose-twin-pack": lambda: Shown("/renew/MAMO-DEMO-0001-TWIN/", "#twin-pack button"),
    "choose-version-up": lambda: Shown("/renew/MAMO-DEMO-0004-W011/", "button.primary"),
    "details": lambda: Shown(
        f"/checkout/{order_of('MAMO-DEMO-0007-CLOD').number}/details/", "#next-button"
    ),
    "confirm": lambda: Shown(f"/checkout/{confirmable(OK).number}/confirm/", "#confirm-button"),
    "authenticate": lambda: Shown(
        f"/checkout/{awaiting_3d_secure().number}/authenticate/", "#authenticate-done"
    ),
    "complete": lambda: Shown(f"/checkout/{paid_order().number}/complete/", ".actions a.button"),
    "orders": lambda: Shown(f"/orders/#{paid_order().number}", "table a[href*='/orders/']"),
    "order": lambda: Shown(f"/orders/{paid_order().number}/", "#receipt .button, #receipt button"),
    "account": lambda: Shown("/account/", "form button.primary"),
    "saved-cards": lambda: Shown(
        f"/account/cards/#{paid_order(keep_card=True).number}", "table.saved-cards-table button"
    ),
    "unsubscribe": lambda: Shown(
        f"/reminders/unsubscribe/{unsubscribe_token(user=demo_customer())}/",
        "form button.primary",
        signed_in=False,
    ),
    "help": lambda: Shown("/help/", "h1", signed_in=False),
    "terms": lambda: Shown("/legal/terms/", "h1", signed_in=False),
    "privacy": lambda: Shown("/legal/privacy/", "h1", signed_in=False),
    "tokushoho": lambda: Shown("/legal/tokushoho/", "table", signed_in=False),
}


def confirmable(number: str) -> Order:
    order = order_of("MAMO-DEMO-0007-CLOD")
    add_card(order, number, email=DEMO)
    order.refresh_from_db()
    return order


def awaiting_3d_secure() -> Order:
    order = confirmable(THREE_DS)
    services.confirm_order(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.REQUIRES_ACTION
    return order


def sign_in(page: Page, base_url: str) -> None:
    """The demo customer's session cookie, as the sign-in form would set it."""
    client = Client()
    client.force_login(demo_customer())
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
    )


def document_width(page: Page) -> int:
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )


@pytest.mark.usefixtures("localstripe")
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_customer_page_fits_a_360_pixel_phone(live_server, page, name, language):
    load_demo_data()
    shown = PAGES[name]()
    if shown.signed_in:
        sign_in(page, live_server.url)
    page.set_viewport_size(PHONE)
    prefix = "" if language == "ja" else "/en"

    response = page.goto(f"{live_server.url}{prefix}{shown.path}")

    assert response.status == 200, (name, response.status)
    page.wait_for_load_state("networkidle")
    assert document_width(page) <= PHONE["width"], f"{name}: the page scrolls sideways"
    primary = page.locator(shown.primary).first
    expect(primary).to_be_visible()
    primary.scroll_into_view_if_needed()
    box = primary.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
    assert page.evaluate("window.scrollX") == 0
    assert small_tap_targets(page) == [], f"{name}: tap targets under 44 px"
    screenshot(page, f"phone-{name}-{language}")


def small_tap_targets(page: Page) -> list[str]:
    """Buttons, fields and button-like links of our own markup (not localstripe's card field or
    its 3-D Secure box) that are visible and less than 44 px tall. A check box's target is its
    label row, so boxes are left out; links inside running text are too (WCAG 2.5.8 exempts
    them)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              '.button, button, select, textarea, input:not([type=hidden]):not([type=checkbox])'
              + ':not([type=radio]), .main-nav a, .site-footer a')]
            .filter((e) => e.closest('header, main, footer') && !e.closest('#card-element'))
            .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .filter((e) => e.getBoundingClientRect().height < 44)
            .map((e) => e.outerHTML.slice(0, 100))"""
    )


def test_header_menu_opens_and_closes_with_a_thumb(live_server, page):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    nav = page.locator("#main-nav")
    toggle = page.get_by_role("button", name="メニュー")

    expect(nav).to_be_hidden()
    assert toggle.bounding_box()["height"] >= 44
    toggle.click()

    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="ヘルプ")).to_be_visible()
    assert small_tap_targets(page) == []
    screenshot(page, "phone-menu-open-ja")
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def test_desktop_header_shows_the_navigation_without_a_menu_button(live_server, page):
    page.goto(f"{live_server.url}/en/")

    expect(page.locator(".menu-toggle")).to_be_hidden()
    expect(page.locator("#main-nav").get_by_role("link", name="Help")).to_be_visible()
    assert page.locator(".brand").bounding_box()["y"] == pytest.approx(
        page.locator("#main-nav").bounding_box()["y"], abs=20
    )  # one header row, as before


def test_desktop_license_list_stays_a_table(live_server, page):
    load_demo_data()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/licenses/")

    expect(page.locator("table.licenses thead")).to_be_visible()
    row = page.locator("table.licenses tbody tr").first
    cells = row.locator("td")
    # One line per license: every cell of the row starts at the same height.
    tops = {round(cells.nth(i).bounding_box()["y"]) for i in range(cells.count())}
    assert len(tops) == 1, tops
    assert document_width(page) <= 1280
    screenshot(page, "licenses-ja")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_code_confirmation_fits_a_360_pixel_phone(live_server, page, language):
    """The page a code leads to when days would be lost (Android, K7/K8): reached by posting
    the license page's form, so it has its own test."""
    load_demo_data()
    sign_in(page, live_server.url)
    page.set_viewport_size(PHONE)
    prefix = "" if language == "ja" else "/en"
    device = Device.objects.get(license__serial="MAMO-DEMO-0006-ANDR")
    page.goto(f"{live_server.url}{prefix}/licenses/MAMO-DEMO-0006-ANDR/#codes")
    page.locator("#id_activation_code").fill(demo_extra_code("android-replace"))
    page.locator("#id_device").select_option(str(device.pk))
    page.locator("#codes button.primary").click()

    cancel = page.locator("#cancel")
    expect(cancel).to_be_visible()
    assert document_width(page) <= PHONE["width"]
    box = cancel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert small_tap_targets(page) == []
    screenshot(page, f"phone-code-confirm-{language}")


def test_my_licenses_at_390_by_844_show_status_and_renew_now_on_screen(live_server, page):
    """The issue's report: on 390 x 844 product names broke after every character and the status
    and "Renew now" columns fell off the right edge."""
    load_demo_data()
    sign_in(page, live_server.url)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/licenses/")

    card = page.locator("table.licenses tbody tr").first
    name = card.locator("td.stack-title a")
    for part in (name, card.locator(".badge"), card.get_by_role("link", name="今すぐ更新")):
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # The product name runs across the card: at least 200 px wide, not a column of characters.
    assert name.bounding_box()["width"] >= 200
    assert document_width(page) <= 390
