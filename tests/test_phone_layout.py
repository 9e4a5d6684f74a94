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

from licenses.demo import load_demo_data
from licenses.models import License, RenewalPath
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


def paid_order() -> Order:
    order = order_of("MAMO-DEMO-0007-CLOD")
    add_card(order, OK, email=DEMO)
    services.confirm_order(order=order)  # tasks run eagerly (conftest): paid and fulfilled
    order.refresh_from_db()
    return order


PAGES: dict[str, Callable[[], Shown]] = {
    "home": lambda: Shown("/", ".hero .button.primary", signed_in=False),
    "home-signed-in": lambda: Shown("/", ".hero .button.primary"),
    "login": lambda: Shown("/accounts/login/", "form.form button[type=submit]", signed_in=False),
    "signup": lambda: Shown("/accounts/signup/", "form.form button[type=submit]", signed_in=False),
    "password-reset": lambda: Shown(
        "/accounts/password_reset/", "form button[type=submit]", signed_in=False
    ),
    "renew-entry": lambda: Shown("/renew/", "form button.primary", signed_in=False),
    "licenses": lambda: Shown("/licenses/", "a.button.primary[href*='/renew/']"),
    "license": lambda: Shown("/licenses/MAMO-DEMO-0002-3DEV/", "a.button.primary"),
    "license-add-code": lambda: Shown("/licenses/MAMO-DEMO-0006-ANDR/", "#codes button.primary"),
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
    "saved-cards": lambda: Shown("/account/cards/", "h1"),
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
    screenshot(page, f"phone-{name}-{language}")
