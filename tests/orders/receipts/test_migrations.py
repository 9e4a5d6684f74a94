"""Receipts moved from ``orders`` to their own app: a database of before the move keeps its data."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from licenses.services import SUPPORT_GROUP
from orders.models import SentMail
from orders.receipts.models import Receipt, ReceiptCounter, ReceiptEvent

BEFORE = [
    ("licenses", "0002_licenseevent_order_and_more"),
    ("orders", "0003_sentmail"),
    ("receipts", None),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([key for key in targets if key[1]]).apps


def latest():
    """Every app's latest migration: the next tests need the whole schema back."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_receipts_issued_before_the_move_keep_their_rows_mails_and_permission():
    old = migrate(BEFORE)
    user_model = old.get_model("auth", "User")
    agent = user_model.objects.create(username="support@example.com", email="support@example.com",
                                      is_staff=True)  # fmt: skip
    customer = user_model.objects.create(username="c@example.com", email="c@example.com")
    group = old.get_model("auth", "Group").objects.create(name="Before the move")
    issue = old.get_model("auth", "Permission").objects.get(
        content_type__app_label="orders", codename="issue_receipt"
    )
    group.permissions.add(issue)
    agent.groups.add(group)
    product = old.get_model("licenses", "Product").objects.create(
        code="cloud", name_ja="クラウド", name_en="Cloud", line="cloud", edition="cloud",
        generation=2026, platform_scope="multi",
    )  # fmt: skip
    today = timezone.localdate()
    license = old.get_model("licenses", "License").objects.create(
        serial="MAMO-MOVE-0001-TEST", product=product, owner=customer,
        starts_on=today - dt.timedelta(days=300), expires_on=today + dt.timedelta(days=65),
    )  # fmt: skip
    price = old.get_model("licenses", "Price").objects.create(
        product=product, term_years=1, kind="renewal", amount=4790, valid_from=today
    )
    order = old.get_model("orders", "Order").objects.create(
        number="R261201-MOVE0001", customer=customer, email=customer.email, license=license,
        from_product=product, product=product, path_kind="same", term_years=1, price=price,
        price_kind="renewal", amount=4790, tax=435, status="fulfilled", paid_at=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    receipt = old.get_model("orders", "Receipt").objects.create(
        order=order, addressee="山田 花子", proviso="更新代として", number="R-2026-000007",
        state="issued", issue_count=1, requested_by=customer, issued_at=now,
        last_issued_at=now, issued_by=agent,
    )  # fmt: skip
    events = old.get_model("orders", "ReceiptEvent").objects
    events.create(receipt=receipt, kind="requested", actor=customer)
    mailed = events.create(receipt=receipt, kind="issued", actor=agent, issue_count=1,
                           mailed_at=now)  # fmt: skip
    old.get_model("orders", "ReceiptCounter").objects.create(year=2026, last_number=7)

    migrate(latest())

    moved = Receipt.objects.get(number="R-2026-000007")
    assert (moved.order.number, moved.addressee, moved.issued_by.email) == (
        "R261201-MOVE0001", "山田 花子", "support@example.com"
    )  # fmt: skip
    assert list(moved.events.values_list("kind", flat=True)) == ["requested", "issued"]
    assert ReceiptCounter.objects.get(year=2026).last_number == 7
    # The mail already sent is recorded where every order mail is: it is not sent again.
    sent = SentMail.objects.get(order__number="R261201-MOVE0001")
    assert sent.key == ReceiptEvent.objects.get(pk=mailed.pk).mail_key
    # The permission followed the model: the group still lets its members issue receipts.
    member = get_user_model().objects.get(email="support@example.com")
    assert member.has_perm("receipts.issue_receipt")
    assert (
        Group.objects.get(name=SUPPORT_GROUP)
        .permissions.filter(content_type__app_label="receipts", codename="issue_receipt")
        .exists()
    )
