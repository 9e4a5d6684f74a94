"""Refund ids kept on payments before refunds had rows of their own become ``Refund`` rows."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from orders.models import Order, Refund

BEFORE = [("orders", "0005_stripe_payment_methods_refunds_disputes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] in {"orders", "receipts"}]


@pytest.mark.django_db(transaction=True)
def test_an_order_refunded_before_refund_rows_keeps_its_refund_id():
    old = migrate(BEFORE)
    customer = old.get_model("auth", "User").objects.create(username="c@example.com")
    product = old.get_model("licenses", "Product").objects.create(
        code="cloud", name_ja="クラウド", name_en="Cloud", line="cloud", edition="cloud",
        generation=2026, platform_scope="multi",
    )  # fmt: skip
    today = timezone.localdate()
    license = old.get_model("licenses", "License").objects.create(
        serial="MAMO-RFND-0001-TEST", product=product, owner=customer,
        starts_on=today - dt.timedelta(days=300), expires_on=today + dt.timedelta(days=65),
    )  # fmt: skip
    price = old.get_model("licenses", "Price").objects.create(
        product=product, term_years=1, kind="renewal", amount=4790, valid_from=today
    )
    order = old.get_model("orders", "Order").objects.create(
        number="R261201-RFND0001", customer=customer, email="c@example.com", license=license,
        from_product=product, product=product, path_kind="same", term_years=1, price=price,
        price_kind="renewal", amount=4790, tax=435, status="refunded", paid_at=timezone.now(),
        refunded_at=timezone.now(),
    )  # fmt: skip
    old.get_model("orders", "Payment").objects.create(
        order=order, attempt=1, amount=4790, status="refunded", stripe_customer_id="cus_1",
        stripe_payment_method="card_1", stripe_payment_intent="pi_1", stripe_refund="re_1",
    )  # fmt: skip

    migrate(latest())

    refund = Refund.objects.get()
    assert (refund.stripe_id, refund.stripe_payment_intent, refund.amount) == ("re_1", "pi_1", 4790)
    assert (refund.status, refund.reason) == ("succeeded", "operator")
    assert Order.objects.get(number="R261201-RFND0001").amount_refunded == 4790
