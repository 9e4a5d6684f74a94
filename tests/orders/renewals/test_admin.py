"""Admin for automatic renewal (issue 11 point 7): upcoming charges, failed ones and retries,
with filters; orders filter by kind."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from licenses.services import SUPPORT_GROUP
from orders.models import Order, Payment
from orders.renewals import services
from orders.renewals.models import AutoRenewal, RenewalAttempt
from tests.factories import SavedCardFactory, UserFactory
from tests.helpers.orders import renewable_license

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    operator = UserFactory(is_staff=True)
    operator.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client.force_login(operator)
    return client


def renewing(days_left: int, **card):
    owner = UserFactory()
    license = renewable_license(owner=owner, days_left=days_left)
    services.switch_on(
        license=license,
        card=SavedCardFactory(customer__user=owner, **card),
        term_years=1,
        source=AutoRenewal.Source.LICENSE_PAGE,
    )
    return license


def failed_attempt(license, slot: int, outcome: str = "declined") -> RenewalAttempt:
    order, _ = Order.objects.get_or_create(
        license=license,
        kind="automatic",
        renews_expiry=license.expires_on,
        defaults={
            "customer": license.owner,
            "email": license.owner.email,
            "from_product": license.product,
            "product": license.product,
            "path_kind": "same",
            "term_years": 1,
            "price": license.product.prices.first(),
            "price_kind": "renewal",
            "amount": 4790,
            "tax": 435,
            "status": "payment_failed",
        },
    )
    payment = Payment.objects.create(
        order=order, attempt=order.payments.count() + 1, amount=4790, status="failed",
        stripe_customer_id="cus_x", stripe_payment_method="pm_x", failure_code="card_declined",
    )  # fmt: skip
    return RenewalAttempt.objects.create(
        order=order, slot=slot, run_on=license.expires_on - dt.timedelta(days=slot),
        payment=payment, outcome=outcome, failure_code="card_declined",
    )  # fmt: skip


def test_upcoming_automatic_renewals_filter_by_charge_window_and_expiring_card(operator_client):
    soon = renewing(10)
    later = renewing(60)
    charge = soon.expires_on - dt.timedelta(days=7)  # the expiring card's charge is later
    before = charge.replace(day=1) - dt.timedelta(days=1)
    expiring = renewing(12, exp_year=before.year, exp_month=before.month)
    off = renewing(20)
    services.switch_off(license=off)
    url = reverse("admin:renewals_autorenewal_changelist")

    def listed(query):
        page = operator_client.get(url + query).content.decode()
        return {lic.serial for lic in (soon, later, expiring, off) if lic.serial in page}

    assert listed("") == {soon.serial, later.serial, expiring.serial, off.serial}
    assert listed("?charge=7") == {soon.serial, expiring.serial}
    assert listed("?charge=card_expires") == {expiring.serial}
    assert listed("?charge=off") == {off.serial}


def test_failed_attempts_and_retries_are_listed_and_filtered(operator_client):
    license = renewing(5)
    first = failed_attempt(license, 7)
    retry = failed_attempt(license, 3)
    url = reverse("admin:renewals_renewalattempt_changelist")
    page = operator_client.get(url + "?outcome__exact=declined").content.decode()
    assert first.order.number in page
    retries = operator_client.get(url + "?try=retry").content.decode()
    assert f"/{retry.pk}/" in retries and f"/{first.pk}/" not in retries
    orders = operator_client.get(
        reverse("admin:orders_order_changelist") + "?kind__exact=automatic"
    )
    assert first.order.number in orders.content.decode()
    assert (
        operator_client.get(reverse("admin:renewals_renewalnotice_changelist")).status_code == 200
    )
    change = operator_client.get(reverse("admin:orders_order_change", args=[first.order.pk]))
    assert "自動更新の決済試行" in change.content.decode()  # the attempts inline
