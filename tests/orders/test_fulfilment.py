"""The extension's own cost (issue 15): the order and its license read in one locked statement,
no read before it, the ledger's products by id (an upgrade reads its new product), and the same
statements whatever the order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from licenses.models import LicenseEvent, RenewalPath
from orders.fulfilment import fulfil_order
from orders.models import Order
from tests.helpers.orders import order_for

pytestmark = pytest.mark.django_db


def paid(order: Order) -> Order:
    """Test data: the order as mark_paid leaves it (the payment path has tests of its own)."""
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_at=timezone.now())
    return order


def statements(queries) -> list[str]:
    """The SQL of an extension without the test transaction's savepoints."""
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"].upper()]


@pytest.mark.parametrize("upgrade", [False, True])
def test_an_extension_is_four_statements_and_an_upgrade_reads_its_new_product(customer, upgrade):
    order = paid(order_for(customer, upgrade=upgrade))
    if upgrade:
        path = RenewalPath.objects.filter(
            from_product=order.license.product, kind=RenewalPath.Kind.UPGRADE
        ).first()
        Order.objects.filter(pk=order.pk).update(
            product=path.to_product, path_kind=RenewalPath.Kind.UPGRADE
        )
    old_expiry, old_product = order.license.expires_on, order.license.product

    with CaptureQueriesContext(connection) as queries:
        assert fulfil_order.run(order.pk) is True

    sql = statements(queries)
    verbs = [s.split()[0].upper() for s in sql]
    assert verbs == ["SELECT", *(["SELECT"] if upgrade else []), "INSERT", "UPDATE", "UPDATE"]
    assert "licenses_product" not in sql[0]  # the locked read joins the license only
    if connection.features.has_select_for_update_of:
        assert "FOR UPDATE OF" in sql[0]
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED and order.fulfilled_at
    event = LicenseEvent.objects.get(order=order)
    assert event.old_expires_on == old_expiry and event.old_product == old_product
    assert event.new_product == order.product
    assert event.kind == (LicenseEvent.Kind.UPGRADED if upgrade else LicenseEvent.Kind.RENEWED)
    order.license.refresh_from_db()
    assert order.license.product == order.product
    assert order.license.expires_on == event.new_expires_on > old_expiry


def test_a_second_run_reads_once_and_changes_nothing(customer):
    order = paid(order_for(customer))
    fulfil_order.run(order.pk)

    with CaptureQueriesContext(connection) as queries:
        assert fulfil_order.run(order.pk) is False

    assert len(statements(queries)) == 1
    assert LicenseEvent.objects.filter(order=order).count() == 1


def test_an_order_that_is_gone_is_not_an_error(customer):
    assert fulfil_order.run(10**9) is False
