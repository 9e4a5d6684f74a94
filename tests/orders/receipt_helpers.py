"""Shared set-up of the receipt tests: paid orders, a support agent, tasks run as a worker would."""

from contextlib import contextmanager

from django.contrib.auth.models import Group
from django.test import TestCase
from django.utils import timezone

from config.celery import app
from licenses.services import SUPPORT_GROUP
from orders import receipts
from tests.factories import OrderFactory, PaymentFactory, UserFactory


def use_test_storage_and_fast_hashing(settings, media_root) -> None:
    """Receipt PDFs go to a temporary MEDIA_ROOT; test accounts hash passwords quickly."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media_root)},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def paid_order(**fields):
    """A paid order of ¥5,980 (tax ¥543) with its successful card payment."""
    fields.setdefault("status", "paid")
    fields.setdefault("paid_at", timezone.now())
    order = OrderFactory(**fields)
    PaymentFactory(order=order, status="succeeded")
    return order


def support_agent(email: str = "support@example.com"):
    user = UserFactory(email=email, is_staff=True, first_name="一郎", last_name="サポート")
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    return user


def requested(order, **fields):
    fields.setdefault("addressee", "山田 花子")
    fields.setdefault("proviso", "まもり クラウド 1年 更新ライセンス代として")
    return receipts.request_receipt(order=order, customer=order.customer, **fields)


@contextmanager
def eager_tasks():
    """``delay()`` runs the task in-process: nothing reaches the broker, no message is left over
    for a real worker of another test."""
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
        app.conf.task_eager_propagates = False


@contextmanager
def worker_runs_tasks():
    """Tasks queued on commit inside the block run when it ends, in-process, like a worker."""
    with eager_tasks(), TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        yield callbacks
