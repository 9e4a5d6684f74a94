"""The whole checkout in Chromium (T2–T8, DESIGN 5): localstripe's stripe.js stand-in, a live
server, and the license extended at the end. Screenshots of each step go to docs/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from licenses.dates import add_years
from orders.models import Order, SavedCard
from orders.payments import gateway
from tests.helpers.orders import renewable_license
from tests.plugins.browser import login, screenshot
from tests.plugins.worker import wait_until

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


def complete_3d_secure(page, *, screenshot_name=None):
    """localstripe's stand-in for the bank's 3-D Secure window: its box in the page."""
    button = page.get_by_role("button", name="Complete authentication")
    expect(button).to_be_visible()
    if screenshot_name:
        screenshot(page, screenshot_name)
    button.click()


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
    complete_3d_secure(page)  # the issuer may ask already when the card is set up (DESIGN 5.2)

    expect(page.get_by_role("heading", name="ご注文内容の確認")).to_be_visible()
    expect(page.get_by_text("Visa **** 3184")).to_be_visible()
    screenshot(page, "checkout-3-confirm")
    page.get_by_role("button", name="注文を確定").click()
    complete_3d_secure(page, screenshot_name="checkout-4-3ds")

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
    payment = order.payments.get()
    assert payment.card_last4 == "3184" and payment.stripe_payment_method.startswith("pm_")
    # Not kept (no consent): the card is detached from the customer once the payment settled.
    assert wait_until(lambda: detached(payment.stripe_payment_method))
    assert not SavedCard.objects.exists()


def detached(payment_method_id: str) -> bool:
    return gateway.retrieve_payment_method(payment_method_id=payment_method_id).customer_id is None


def test_T6_failed_authentication_then_success_with_another_card_in_english(
    page, live_server, customer
):
    license = start_checkout(page, live_server, customer, prefix="/en")
    page.get_by_role("link", name="Renew now").first.click()
    page.locator("table.terms tbody tr").nth(1).get_by_role("button", name="Select").click()
    fill_card(page, "4000002760003184")
    page.get_by_label("I agree to the above").check()
    screenshot(page, "checkout-2-details-en")
    page.get_by_role("button", name="Next").click()
    complete_3d_secure(page)
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


def test_T4_card_declined_at_setup_shows_beside_the_card_then_declined_at_charge(
    page, live_server, customer
):
    start_checkout(page, live_server, customer)
    page.get_by_role("link", name="今すぐ更新").first.click()
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    page.get_by_label("メールアドレス").fill("hanako.new@example.com")
    fill_card(page, "4000000000000002")  # declined when it is set up
    page.get_by_label("上記の諸規定に同意します").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.locator("#card-errors")).to_contain_text("ご利用いただけませんでした")
    expect(page.get_by_label("メールアドレス")).to_have_value("hanako.new@example.com")
    expect(page.get_by_label("上記の諸規定に同意します")).to_be_checked()
    assert not Order.objects.get().payments.exists()  # nothing reached the server
    screenshot(page, "checkout-2-declined-at-setup")

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


def test_issue10_3_saved_card_pays_again_without_typing_it_and_can_be_removed(
    page, live_server, customer
):
    """Kept with consent; the next renewal pays with it (3-D Secure still asked by the bank);
    the account page lists it and removing it detaches it at Stripe."""
    first = start_checkout(page, live_server, customer)
    page.goto(f"{live_server.url}/renew/{first.serial}/")
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    fill_card(page, "4000002760003184")
    page.get_by_label("次回のためにこのカードを保存する").check()
    page.get_by_label("上記の諸規定に同意します").check()
    page.get_by_role("button", name="次へ").click()
    complete_3d_secure(page)
    page.get_by_role("button", name="注文を確定").click()
    complete_3d_secure(page)
    expect(page.get_by_role("heading", name="お申し込みありがとうございました")).to_be_visible()
    saved = wait_until(lambda: SavedCard.objects.first())
    assert (saved.brand, saved.last4) == ("Visa", "3184")

    second = renewable_license(owner=customer, days_left=30)
    page.goto(f"{live_server.url}/renew/{second.serial}/")
    page.locator("table.terms tbody tr").first.get_by_role("button", name="お申し込み").click()
    saved_choice = page.get_by_label(re.compile("Visa 末尾 3184"))
    expect(saved_choice).to_be_checked()  # the saved card is offered first
    expect(page.locator("#card-element")).to_be_hidden()
    page.get_by_label("上記の諸規定に同意します").check()
    screenshot(page, "checkout-2-saved-card")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_text("Visa **** 3184")).to_be_visible()
    page.get_by_role("button", name="注文を確定").click()
    complete_3d_secure(page)  # the bank may still ask
    expect(page.get_by_role("heading", name="お申し込みありがとうございました")).to_be_visible()
    order = Order.objects.get(license=second)
    assert order.payments.get().stripe_payment_method == saved.stripe_payment_method

    page.goto(f"{live_server.url}/en/account/cards/")
    expect(page.get_by_role("cell", name="Visa **** 3184")).to_be_visible()
    screenshot(page, "account-cards-en")
    page.goto(f"{live_server.url}/licenses/")
    page.get_by_role("link", name="アカウント").click()
    page.get_by_role("link", name="保存したカード").click()
    expect(page.get_by_role("cell", name="Visa **** 3184")).to_be_visible()
    screenshot(page, "account-cards")
    page.get_by_role("button", name="Visa 末尾 3184 を削除").click()
    expect(page.get_by_text("カードを削除しました")).to_be_visible()
    assert not SavedCard.objects.exists()
    assert detached(saved.stripe_payment_method)  # at Stripe: it can never be charged again
