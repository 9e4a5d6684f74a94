"""Automatic renewal's notices (issue 11 point 2): AUTO_RENEW_NOTICE_DAYS before each charge a
mail with the amount, the date, the card and how to cancel or change it; a warning instead when
the card expires before the charge date. Sent once per license and expiry date."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import StripeCustomer
from orders.renewals import services
from orders.renewals.models import AutoRenewal, RenewalNotice
from orders.renewals.selectors import due_notices
from tests.factories import SavedCardFactory
from tests.helpers.orders import renewable_license

pytestmark = pytest.mark.django_db


def auto_renewing(customer, *, days_left: int, card_expires: dt.date | None = None):
    license = renewable_license(owner=customer, days_left=days_left)
    stripe_customer = StripeCustomer.objects.filter(user=customer).first()
    card = (
        SavedCardFactory(customer=stripe_customer, brand="JCB", last4="0005")
        if stripe_customer
        else SavedCardFactory(customer__user=customer, brand="JCB", last4="0005")
    )
    if card_expires:
        card.exp_year, card.exp_month = card_expires.year, card_expires.month
        card.save()
    services.switch_on(
        license=license, card=card, term_years=1, source=AutoRenewal.Source.LICENSE_PAGE
    )
    return license


def test_the_notice_goes_30_days_before_the_charge_once_with_amount_date_card_and_how_to_cancel(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    license = auto_renewing(customer, days_left=7 + 30)
    not_yet = auto_renewing(customer, days_left=7 + 31)
    charge_on = license.expires_on - dt.timedelta(days=7)

    assert due_notices(on=today) == [license.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_auto_renewals(on=today)
        services.sweep_auto_renewals(on=today)  # a second run sends nothing more

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [customer.email]
    body = mail.body
    assert "¥4,790" in body  # the 1-year renewal price, tax included
    assert charge_on.isoformat() in body
    assert "JCB **** 0005" in body
    assert reverse("licenses:detail", args=[license.serial]) in body  # cancel or change there
    assert RenewalNotice.objects.get().kind == "notice"
    assert not RenewalNotice.objects.filter(license=not_yet).exists()


def test_a_card_expiring_before_the_charge_date_gets_the_warning_mail(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    license = auto_renewing(customer, days_left=7 + 20)
    charge_on = license.expires_on - dt.timedelta(days=7)
    # Valid through the end of the month before the charge date's month.
    before = charge_on.replace(day=1) - dt.timedelta(days=1)
    card = AutoRenewal.objects.get(license=license).card
    card.exp_year, card.exp_month = before.year, before.month
    card.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_auto_renewals(on=today)

    assert len(mailoutbox) == 1
    assert "カードの更新" in mailoutbox[0].subject or "card" in mailoutbox[0].subject
    assert f"{before.month:02d}/{before.year}" in mailoutbox[0].body
    assert RenewalNotice.objects.get(license=license).kind == "card_expires"


def test_switched_off_licenses_get_no_notice(
    customer, mailoutbox, django_capture_on_commit_callbacks
):
    license = auto_renewing(customer, days_left=7 + 30)
    services.switch_off(license=license)
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_auto_renewals(on=timezone.localdate())
    assert mailoutbox == []
