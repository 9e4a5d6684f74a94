"""The orders app's tasks, each defined beside the service it runs; imported here so that
Celery's autodiscovery (which imports ``<app>.tasks``) registers them all.

A task takes ids, loads, and calls one service; its retries live on the task, idempotency in the
service. Services queue tasks with ``delay()``: the task base (``config.celery.OnCommitTask``)
waits for the commit and never raises when the broker is down.
"""

from .fulfilment import fulfil_order
from .mail import send_order_mail
from .payments.cards import settle_payment_card
from .payments.duplicates import refund_duplicate
from .payments.reconciliation import run_reconciliation
from .payments.webhooks import process_webhook_event

__all__ = [
    "fulfil_order",
    "process_webhook_event",
    "refund_duplicate",
    "run_reconciliation",
    "send_order_mail",
    "settle_payment_card",
]
