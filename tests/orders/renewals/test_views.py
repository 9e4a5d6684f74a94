"""The license page's automatic renewal (issue 11 points 1, 4, 5): opt in knowingly with a card
set up through a SetupIntent, see the next charge, the card and the last attempt, change the
card, switch off, and remove the card only after being asked."""

import datetime as dt

import pytest
from django.urls import reverse

from orders import services
from orders.legal import AUTO_RENEWAL_TERMS_VERSION
from orders.models import SavedCard
from orders.renewals.models import AutoRenewal
from tests.helpers.orders import add_card, order_for, renewable_license
from tests.helpers.renewals import (
    automatic_orders,
    opted_in_at_checkout,
    renewal_of,
    run_auto_renewals,
    switch_on_from_license_page,
)
from tests.helpers.stripe import DECLINED_ON_CHARGE, OK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_switching_on_shows_the_subscription_terms_and_needs_consent_and_a_card(
    customer_client, customer
):
    license = renewable_license(owner=customer)
    page = customer_client.get(reverse("renewals:switch_on", args=[license.serial]))
    text = page.content.decode()
    # 特定商取引法 / 定期購入: price per term with tax, term, when charged, until cancelled, how to cancel.
    for expected in (
        "¥4,790",
        "¥8,990",
        "¥11,980",
        "消費税",
        "7日前",
        "解約",
        "ライセンスのページ",
    ):
        assert expected in text, expected
    assert 'name="agree"' in text and "checked" not in text.split('name="agree"')[1][:40]

    response = switch_on_from_license_page(customer_client, license, OK, agree=False)
    assert response.status_code == 200
    assert "自動更新の条件をお読みのうえ、同意してください" in response.content.decode()
    license.refresh_from_db()
    assert not license.auto_renew and not AutoRenewal.objects.exists()

    response = switch_on_from_license_page(customer_client, license, OK, term=2)
    assert response.status_code == 302
    license.refresh_from_db()
    assert license.auto_renew
    renewal = renewal_of(license)
    assert renewal.term_years == 2
    assert renewal.terms_version == AUTO_RENEWAL_TERMS_VERSION
    assert renewal.consented_at is not None
    assert renewal.card.last4 == "4242"
    assert renewal.source == "license_page"


def test_the_license_page_shows_next_charge_card_and_last_attempt(
    customer, client, django_capture_on_commit_callbacks
):
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    client.force_login(customer)
    switch_on_from_license_page(client, license, DECLINED_ON_CHARGE)
    run_auto_renewals(license.expires_on - dt.timedelta(days=7), django_capture_on_commit_callbacks)

    page = client.get(reverse("licenses:detail", args=[license.serial])).content.decode()
    next_try = license.expires_on - dt.timedelta(days=7)
    assert next_try.isoformat() in page
    assert "**** 0341" in page
    assert "拒否" in page  # the last attempt: declined
    assert reverse("renewals:pay", args=[automatic_orders(license).get().number]) in page


def test_switch_off_then_nothing_is_charged_and_replace_card(
    customer, client, django_capture_on_commit_callbacks
):
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    client.force_login(customer)
    first = renewal_of(license).card
    switch_on_from_license_page(client, license, OK)  # a second card, now the renewal card
    assert renewal_of(license).card != first
    client.post(reverse("renewals:replace_card", args=[license.serial]), {"card": first.pk})
    assert renewal_of(license).card == first

    client.post(reverse("renewals:switch_off", args=[license.serial]))
    license.refresh_from_db()
    assert not license.auto_renew
    assert renewal_of(license).switched_off_at is not None
    run_auto_renewals(license.expires_on - dt.timedelta(days=7), django_capture_on_commit_callbacks)
    assert not automatic_orders(license).exists()


def test_removing_the_renewal_card_asks_first_then_switches_automatic_renewal_off(
    customer, client, django_capture_on_commit_callbacks
):
    license, _checkout = opted_in_at_checkout(customer, django_capture_on_commit_callbacks)
    client.force_login(customer)
    card = renewal_of(license).card

    page = client.post(reverse("orders:cards"), {"card": card.pk})
    assert page.status_code == 200
    assert license.serial in page.content.decode()
    assert SavedCard.objects.filter(pk=card.pk).exists()
    license.refresh_from_db()
    assert license.auto_renew  # only asked so far

    client.post(reverse("orders:cards"), {"card": card.pk, "confirm": "1"})
    assert not SavedCard.objects.filter(pk=card.pk).exists()
    license.refresh_from_db()
    assert not license.auto_renew
    run_auto_renewals(license.expires_on - dt.timedelta(days=7), django_capture_on_commit_callbacks)
    assert not automatic_orders(license).exists()


def test_the_checkout_box_is_never_preselected_and_the_confirm_step_repeats_the_terms(
    customer_client, customer
):
    order = order_for(customer)
    page = customer_client.get(reverse("orders:details", args=[order.number])).content.decode()
    box = page.split('name="auto_renew"')
    assert len(box) == 2 and "checked" not in box[1].split(">")[0]
    assert "¥4,790" in page and "解約" in page  # the terms beside the box

    add_card(order, OK, email=customer.email)  # not ticked
    page = customer_client.get(reverse("orders:confirm", args=[order.number])).content.decode()
    assert 'id="auto-renewal-terms"' not in page

    services.enter_details(order=order, email=customer.email, auto_renew=True)
    order.refresh_from_db()
    assert order.auto_renew
    assert order.terms_versions["auto_renewal"] == AUTO_RENEWAL_TERMS_VERSION
    page = customer_client.get(reverse("orders:confirm", args=[order.number])).content.decode()
    assert 'id="auto-renewal-terms"' in page
    assert "¥4,790" in page and "解約" in page


def test_the_legal_disclosure_terms_and_help_say_what_automatic_renewal_does(client, settings):
    settings.AUTO_RENEW_DAYS_BEFORE = 5
    tokushoho = client.get(reverse("legal:tokushoho")).content.decode()
    assert 'id="automatic-renewal"' in tokushoho
    assert "有効期限の5日前" in tokushoho and "解約" in tokushoho and "30日前" in tokushoho
    assert "自動更新" in client.get(reverse("legal:terms")).content.decode()
    help_page = client.get(reverse("help")).content.decode()
    assert 'id="automatic-renewal"' in help_page and "5日前" in help_page
    english = client.get("/en" + reverse("legal:tokushoho")).content.decode()
    assert "5 days before the expiry date" in english
