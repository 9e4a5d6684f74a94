"""Automatic renewal in Chromium (issue 11 points 1 and 5): opted in at checkout with the box
and the terms, repeated at confirm; the license page shows it, switches it off, and switches it
on again with a new card set up in the page (3-D Secure at setup). Screenshots for the docs."""

import pytest
from playwright.sync_api import expect

from orders.renewals.models import AutoRenewal
from tests.helpers.orders import renewable_license
from tests.orders.test_browser_checkout import PASSWORD, complete_3d_secure, fill_card
from tests.plugins.browser import login, screenshot
from tests.plugins.worker import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("localstripe"),
]


def test_opt_in_at_checkout_then_switch_off_and_on_again_from_the_license_page(
    page, live_server, customer
):
    license = renewable_license(owner=customer, days_left=12)
    login(page, live_server.url, customer.email, PASSWORD)
    page.goto(f"{live_server.url}/renew/{license.serial}/")
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()

    box = page.get_by_label("このカードで自動更新する（あんしん自動更新）")
    expect(box).not_to_be_checked()  # never preselected
    expect(page.locator("#auto-renewal-terms")).to_contain_text("¥4,790")
    fill_card(page, "4242424242424242")
    box.check()
    page.get_by_label("上記の諸規定に同意します").check()
    screenshot(page, "auto-renewal-1-checkout")
    page.get_by_role("button", name="次へ").click()

    expect(page.get_by_role("heading", name="ご注文内容の確認")).to_be_visible()
    expect(page.locator("#auto-renewal-terms")).to_contain_text("解約されるまで")
    page.get_by_role("button", name="注文を確定").click()
    expect(page.get_by_role("heading", name="お申し込みありがとうございました")).to_be_visible()
    expect(page.locator("#auto-renewal-on")).to_contain_text("いつでも解約できます")
    wait_until(lambda: AutoRenewal.objects.filter(license=license).exists(), timeout=20)

    page.goto(f"{live_server.url}/licenses/{license.serial}/")
    panel = page.locator("#auto-renewal")
    expect(panel).to_contain_text("Visa **** 4242")
    expect(panel).to_contain_text("次回の請求")
    screenshot(page, "auto-renewal-2-license-page")
    panel.get_by_role("button", name="自動更新を停止する").click()
    expect(page.locator("#auto-renewal")).to_contain_text("いつでも解約できます")
    license.refresh_from_db()
    assert not license.auto_renew

    page.locator("#auto-renewal").get_by_role("link", name="自動更新を有効にする").click()
    expect(page.locator("#auto-renewal-terms")).to_contain_text("解約方法")
    page.get_by_label("別のカード").check()
    fill_card(page, "4000002760003184")
    page.get_by_label("上記の自動更新の条件に同意します").check()
    screenshot(page, "auto-renewal-3-switch-on")
    page.get_by_role("button", name="自動更新を有効にする").click()
    complete_3d_secure(page)  # the issuer asks when the card is set up
    expect(page.locator("#auto-renewal")).to_contain_text("Visa **** 3184")
    license.refresh_from_db()
    assert license.auto_renew
    assert AutoRenewal.objects.get(license=license).card.last4 == "3184"
