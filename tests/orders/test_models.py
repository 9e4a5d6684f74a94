"""Order invariants (DESIGN 3)."""

import re

import pytest
from django.db import IntegrityError, transaction

from tests.factories import OrderFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def test_order_numbers_are_readable_and_unguessable():
    numbers = {OrderFactory().number for _ in range(20)}
    assert len(numbers) == 20
    assert all(re.fullmatch(r"R\d{6}-[0-9A-HJKMNP-TV-Z]{8}", number) for number in numbers)


def test_order_tax_must_be_below_the_total():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(amount=1000, tax=1000)


def test_guest_order_needs_an_email_once_past_the_draft():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderFactory(customer=None, email="", status="details_entered")


def test_one_payment_row_per_attempt():
    payment = PaymentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentFactory(order=payment.order, attempt=payment.attempt)
    assert payment.idempotency_key == f"order-{payment.order.number}-attempt-{payment.attempt}"
