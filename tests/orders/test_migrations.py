"""Refund ids kept on payments before refunds had rows of their own become ``Refund`` rows."""

import pytest
from django.utils import timezone

from orders.models import Order, Refund
from tests.helpers.migrations import migrate, migrate_to_latest, old_order

BEFORE = [("orders", "0005_stripe_payment_methods_refunds_disputes")]


@pytest.mark.django_db(transaction=True)
def test_an_order_refunded_before_refund_rows_keeps_its_refund_id():
    old = migrate(BEFORE)
    customer = old.get_model("auth", "User").objects.create(
        username="c@example.com", email="c@example.com"
    )
    order = old_order(
        old, number="R261201-RFND0001", serial="MAMO-RFND-0001-TEST", customer=customer,
        status="refunded", refunded_at=timezone.now(),
    )  # fmt: skip
    old.get_model("orders", "Payment").objects.create(
        order=order, attempt=1, amount=4790, status="refunded", stripe_customer_id="cus_1",
        stripe_payment_method="card_1", stripe_payment_intent="pi_1", stripe_refund="re_1",
    )  # fmt: skip

    migrate_to_latest()

    refund = Refund.objects.get()
    assert (refund.stripe_id, refund.stripe_payment_intent, refund.amount) == ("re_1", "pi_1", 4790)
    assert (refund.status, refund.reason) == ("succeeded", "operator")
    assert Order.objects.get(number="R261201-RFND0001").amount_refunded == 4790
