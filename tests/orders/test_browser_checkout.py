"""The whole checkout in Chromium (T2–T8, DESIGN 5): localstripe's stripe.js stand-in, a live
server, and the license extended at the end. Screenshots of each step go to docs/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from licenses.dates import add_years
from orders.models import Order
from tests.helpers.orders import renewable_license
from tests.plugins.browser import login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("localstripe"),
]

PASSWORD = "correct-horse-2026"


def fill_card(page, number):
    card = page.locator("#card-element")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")  # two digits: localstripe prepends "20"
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("1000001")


def start_checkout(page, live_server, customer, *, prefix=""):
    license = renewable_license(owner=customer, days_left=12)
    login(page, live_server.url, customer.email, PASSWORD)
    page.goto(f"{live_server.url}{prefix}/licenses/")
    return license


def test_T2_to_T9_checkout_with_3d_secure_completed_extends_the_expiry(page, live_server, customer):
    license = start_checkout(page, live_server, customer)
    page.get_by_role("link", name="今すぐ更新").first.click()
    expect(page.get_by_role("heading", name="更新内容の選択")).to_be_visible()
    screenshot(page, "checkout-1-choose")
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()

    expect(page.get_by_role("heading", name="お客様情報の入力")).to_be_visible()
    expect(page.get_by_label("メールアドレス")).to_have_value(customer.email)
    fill_card(page, "4000002760003184")
    page.get_by_label("上記の諸規定に同意します").check()
    screenshot(page, "checkout-2-details")
    page.get_by_role("button", name="次へ").click()

    expect(page.get_by_role("heading", name="ご注文内容の確認")).to_be_visible()
    expect(page.get_by_text("Visa **** 3184")).to_be_visible()
    screenshot(page, "checkout-3-confirm")
    page.get_by_role("button", name="注文を確定").click()

    complete = page.get_by_role("button", name="Complete authentication")
    expect(complete).to_be_visible()
    screenshot(page, "checkout-4-3ds")
    complete.click()

    expect(page.get_by_role("heading", name="お申し込みありがとうございました")).to_be_visible()
    new_expiry = add_years(license.expires_on, 1)
    expect(page.locator("#new-expiry")).to_have_text(new_expiry.isoformat(), timeout=20_000)
    expect(page.locator(".extension-done")).to_be_visible()
    expect(page.get_by_text("MAMORI*RENEWAL")).to_be_visible()  # T9
    screenshot(page, "checkout-5-complete")
    license.refresh_from_db()
    assert license.expires_on == new_expiry
    order = Order.objects.get()
    assert order.status == "fulfilled"
    assert order.payments.get().card_last4 == "3184"


def test_failed_authentication_then_success_with_another_card_in_english(
    page, live_server, customer
):
    license = start_checkout(page, live_server, customer, prefix="/en")
    page.get_by_role("link", name="Renew now").first.click()
    page.locator("table.terms tbody tr").nth(1).get_by_role("button", name="Select").click()
    fill_card(page, "4000002760003184")
    page.get_by_label("I agree to the above").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Confirm order").click()
    page.get_by_role("button", name="Fail authentication").click()

    expect(page.get_by_role("heading", name="Enter your details")).to_be_visible()
    expect(page.locator(".form-errors").first).to_contain_text("3-D Secure")
    assert Order.objects.get().status == "payment_failed"

    fill_card(page, "4242424242424242")
    expect(page.get_by_label("I agree to the above")).to_be_checked()  # entries kept
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Visa **** 4242")).to_be_visible()
    page.get_by_role("button", name="Confirm order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.locator("#new-expiry")).to_have_text(
        add_years(license.expires_on, 2).isoformat(), timeout=20_000
    )
    order = Order.objects.get()
    assert list(order.payments.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_declined_cards_show_the_reason_beside_the_card_and_allow_another(
    page, live_server, customer
):
    start_checkout(page, live_server, customer)
    page.get_by_role("link", name="今すぐ更新").first.click()
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    page.get_by_label("メールアドレス").fill("hanako.new@example.com")
    fill_card(page, "4000000000000002")  # declined when added
    page.get_by_label("上記の諸規定に同意します").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#card-errors")).to_contain_text("ご利用いただけませんでした")
    expect(page.get_by_label("メールアドレス")).to_have_value("hanako.new@example.com")
    expect(page.get_by_label("上記の諸規定に同意します")).to_be_checked()

    fill_card(page, "4000000000000341")  # declined at charge
    page.get_by_role("button", name="次へ").click()
    page.get_by_role("button", name="注文を確定").click()
    expect(page.get_by_role("heading", name="お客様情報の入力")).to_be_visible()
    expect(page.get_by_text("ご利用いただけませんでした").first).to_be_visible()
    assert Order.objects.get().status == "payment_failed"


def test_edit_order_goes_back_to_the_details_with_entries_kept(page, live_server, customer):
    start_checkout(page, live_server, customer)
    page.get_by_role("link", name="今すぐ更新").first.click()
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    page.get_by_label("メールアドレス").fill("edit.me@example.com")
    fill_card(page, "4242424242424242")
    page.get_by_label("上記の諸規定に同意します").check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_role("link", name="注文内容を編集").click()

    expect(page.get_by_label("メールアドレス")).to_have_value("edit.me@example.com")
    expect(page.get_by_label("上記の諸規定に同意します")).to_be_checked()
    expect(page.get_by_text(re.compile("Visa.*4242"))).to_be_visible()
    # Keep the card on file: Next without typing it again goes to the confirmation.
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", name="ご注文内容の確認")).to_be_visible()
    assert Order.objects.get().payments.count() == 1
