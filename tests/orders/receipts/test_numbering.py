"""Receipt numbers are gap-free and unique under concurrency (J5, DESIGN 7).

The concurrent test commits for real, from 20 threads with a connection each: on PostgreSQL (CI)
they queue on the counter row's lock; on SQLite (a file, IMMEDIATE transactions) on the database lock.
"""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from orders.receipts import services as receipts
from orders.receipts.models import Receipt, ReceiptCounter, ReceiptEvent
from tests.helpers.orders import paid_order
from tests.helpers.receipts import (
    requested,
    support_agent,
)

CONCURRENT_ISSUES = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_issues_take_consecutive_numbers_without_gaps_or_duplicates():
    pending = [requested(paid_order()) for _ in range(CONCURRENT_ISSUES)]
    agents = [support_agent(f"support{n}@example.com") for n in range(CONCURRENT_ISSUES)]
    start = threading.Barrier(CONCURRENT_ISSUES)
    failures = []

    def issue(receipt, agent):
        try:
            start.wait(timeout=30)  # all threads reach the counter together
            receipts.issue_receipt(receipt=receipt, staff=agent)
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()  # this thread's own connection

    # Tasks are eager in tests: the PDF render queued on each commit runs in that thread.
    threads = [
        threading.Thread(target=issue, args=pair) for pair in zip(pending, agents, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    year = timezone.localdate().year
    issued = Receipt.objects.filter(state="issued")
    assert sorted(issued.values_list("number", flat=True)) == [
        f"R-{year}-{n:06d}" for n in range(1, CONCURRENT_ISSUES + 1)
    ]
    assert ReceiptCounter.objects.get(year=year).last_number == CONCURRENT_ISSUES
    assert all(receipt.is_downloadable for receipt in issued)
    # Each issue is recorded with the agent who did it.
    by_agent = dict(
        ReceiptEvent.objects.filter(kind="issued").values_list("receipt_id", "actor__email")
    )
    assert len(set(by_agent.values())) == CONCURRENT_ISSUES


@pytest.mark.django_db
def test_an_issue_that_fails_gives_its_number_back(monkeypatch):
    first, second = requested(paid_order()), requested(paid_order())
    agent = support_agent()

    def fail_to_record(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(receipts, "_record", fail_to_record)
        with pytest.raises(RuntimeError):
            receipts.issue_receipt(receipt=first, staff=agent)

    first.refresh_from_db()
    assert (first.state, first.number) == ("requested", None)
    assert receipts.issue_receipt(receipt=second, staff=agent).number.endswith("-000001")
    assert receipts.issue_receipt(receipt=first, staff=agent).number.endswith("-000002")


@pytest.mark.django_db
def test_each_year_counts_from_one():
    # The test runs inside a transaction, as an issue does.
    assert receipts.next_receipt_number(year=2026) == "R-2026-000001"
    assert receipts.next_receipt_number(year=2026) == "R-2026-000002"
    assert receipts.next_receipt_number(year=2027) == "R-2027-000001"


@pytest.mark.django_db(transaction=True)
def test_a_number_is_only_taken_inside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        receipts.next_receipt_number(year=2026)
    assert not ReceiptCounter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_racing_itself_makes_one_request():
    order = paid_order()
    start = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            start.wait(timeout=30)
            requested(order)
            outcomes.append("made")
        except receipts.ReceiptError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["made", "refused"]
    assert Receipt.objects.filter(order=order).count() == 1
    assert ReceiptEvent.objects.filter(kind="requested").count() == 1
