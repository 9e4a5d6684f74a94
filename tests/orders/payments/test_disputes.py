"""Disputes (DESIGN 5.8; issue 10 point 5): a card holder's dispute flags the order, a lost one
takes the extension back through the ledger. Stripe's test card 4000000000000259 is disputed as
fraudulent right after it is charged (the localstripe shim does the same)."""

import pytest
from django.core import mail
from django.urls import reverse

from licenses.dates import add_years
from licenses.models import LicenseEvent
from orders.models import Dispute
from orders.payments.testing import accept_dispute, find_dispute
from tests.helpers.orders import order_paid_at_stripe
from tests.helpers.stripe import DISPUTED, post_event, recorded_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_issue10_5_dispute_flags_the_order_and_a_lost_one_reverses_through_the_ledger(
    admin_client, client, customer, django_capture_on_commit_callbacks
):
    order = order_paid_at_stripe(customer, django_capture_on_commit_callbacks, number=DISPUTED)
    order.license.refresh_from_db()
    extended = order.license.expires_on
    payment = order.payments.get()
    dispute = find_dispute(payment.stripe_payment_intent)
    about = {"id": dispute["id"], "charge": payment.stripe_charge,
             "payment_intent": payment.stripe_payment_intent}  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("charge.dispute.created", **about))
    order.refresh_from_db()
    assert order.status == "fulfilled" and order.attention == "disputed"
    stored = Dispute.objects.get()
    assert (stored.stripe_id, stored.status, stored.reason) == (
        dispute["id"], "needs_response", "fraudulent"
    )  # fmt: skip
    changelist = reverse("admin:orders_order_changelist")
    assert order.number in admin_client.get(changelist + "?dispute=open").text
    assert order.number not in admin_client.get(changelist + "?dispute=lost").text

    accept_dispute(dispute["id"])  # the operator accepts it at Stripe: lost
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("charge.dispute.closed", **about))
        post_event(client, recorded_event("charge.dispute.closed", **about))  # again: once
    order.refresh_from_db()
    order.license.refresh_from_db()
    assert order.status == "refunded"
    assert order.license.expires_on == add_years(extended, -1)
    assert LicenseEvent.objects.filter(order=order, kind="dispute_lost").count() == 1
    assert LicenseEvent.objects.filter(order=order, kind="renewed").count() == 1  # history kept
    assert Dispute.objects.get().status == "lost"
    assert order.number in admin_client.get(changelist + "?dispute=lost").text
    assert not mail.outbox  # no "refund done" mail: the bank took the money back


def test_dispute_about_no_payment_of_ours_is_ignored(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, recorded_event("charge.dispute.created", id="dp_not_ours"))
    assert not Dispute.objects.exists()
