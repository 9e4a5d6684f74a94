"""Content-Security-Policy (DESIGN 9): this site plus Stripe's script, frames and API, no inline
script, and a full checkout with 3-D Secure in Chromium reports no violation."""

import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from playwright.sync_api import expect

from config.csp import stripe_sources
from tests.helpers.orders import renewable_license
from tests.plugins.browser import login

PASSWORD = "correct-horse-2026"


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
def test_every_page_carries_the_policy_with_stripes_origins_from_settings(client, settings):
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    for url in ["/", "/en/help/", reverse("login"), "/admin/login/"]:
        response = client.get(url)
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'", "http://127.0.0.1:8420"]  # no 'unsafe-inline'
        assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]

    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    policy = directives(client.get("/"))
    assert policy["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert policy["frame-src"] == [
        "'self'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        "https://hooks.stripe.com",
    ]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]


def test_stripe_sources_come_from_the_configured_urls_only():
    assert stripe_sources(
        js_url="http://localhost:9999/js.stripe.com/v3/", api_base="http://localhost:9999"
    ) == {
        "script-src": ["http://localhost:9999"],
        "frame-src": ["http://localhost:9999"],
        "connect-src": ["http://localhost:9999"],
    }


def test_no_template_has_inline_script_or_event_handler_attributes():
    base = django_settings.BASE_DIR
    roots = [base / "templates", base / "orders" / "receipts"]
    offenders = []
    for root in roots:
        for path in root.rglob("*.html"):
            if "/mail/" in str(path):
                continue  # mails are not pages
            text = path.read_text()
            if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son\w+=", text):
                offenders.append(str(path))
    assert offenders == []


VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations (the DOM event and the console's report)."""
    console = []
    page.add_init_script(VIOLATIONS)
    page.on("console", lambda message: console.append(message.text))

    def violations() -> list[str]:
        reported = page.evaluate("window.__csp || []")
        return reported + [text for text in console if "Content Security Policy" in text]

    page.violations = violations
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("localstripe")
def test_checkout_with_3d_secure_reports_no_csp_violation(watched, live_server, customer):
    page = watched
    renewable_license(owner=customer, days_left=12)
    login(page, live_server.url, customer.email, PASSWORD)
    page.goto(f"{live_server.url}/licenses/")
    page.get_by_role("link", name="今すぐ更新").first.click()
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    card = page.locator("#card-element")
    for placeholder, text in [("number", "4000002760003184"), ("exp_month", "12"),
                              ("exp_year", "34"), ("cvc", "123"), ("postal_code", "1000001")]:  # fmt: skip
        card.get_by_placeholder(placeholder).fill(text)
    page.get_by_label("上記の諸規定に同意します").check()
    page.get_by_role("button", name="次へ").click()
    # The bank asks for 3-D Secure twice with this card: when the card is set up and when it pays.
    page.get_by_role("button", name="Complete authentication").click()
    page.get_by_role("button", name="注文を確定").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="お申し込みありがとうございました")).to_be_visible()
    expect(page.locator(".extension-done")).to_be_visible(timeout=20_000)  # complete.js polled
    page.goto(f"{live_server.url}/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()
    assert page.violations() == []

    # The watch works: something the policy forbids is reported.
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<img src=\"https://evil.example/x.png\">')"
    )
    page.wait_for_timeout(300)
    assert any("img-src" in violation for violation in page.violations())
