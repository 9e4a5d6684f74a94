"""Receipts moved from ``orders`` to their own app: a database of before the move keeps its data."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from licenses.services import SUPPORT_GROUP
from orders.models import SentMail
from orders.receipts.models import Receipt, ReceiptCounter, ReceiptEvent
from tests.helpers.migrations import migrate, migrate_to_latest, old_order

BEFORE = [
    ("licenses", "0002_licenseevent_order_and_more"),
    ("orders", "0003_sentmail"),
    ("receipts", None),
]


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
    order = old_order(
        old, number="R261201-MOVE0001", serial="MAMO-MOVE-0001-TEST", customer=customer
    )
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

    migrate_to_latest()

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
