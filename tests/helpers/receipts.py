"""Receipts for tests: a support agent, a requested receipt, tasks run as a worker would."""

from django.contrib.auth.models import Group
from django.test import TestCase

from licenses.services import SUPPORT_GROUP
from orders.receipts import services
from tests.factories import UserFactory


def support_agent(email: str = "support@example.com"):
    user = UserFactory(email=email, is_staff=True, first_name="一郎", last_name="サポート")
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return user


def requested(order, **fields):
    fields.setdefault("addressee", "山田 花子")
    fields.setdefault("proviso", "まもり クラウド 1年 更新ライセンス代として")
    return services.request_receipt(order=order, customer=order.customer, **fields)


def worker_runs_tasks():
    """Tasks queued on commit inside the block run when it ends, in-process, like a worker
    (tests run tasks eagerly: ``tests/conftest.py``)."""
    return TestCase.captureOnCommitCallbacks(execute=True)
