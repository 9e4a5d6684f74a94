"""Receipt tasks: take ids, load, call one service from ``orders.receipts``.

Registered with the worker through ``CELERY_IMPORTS`` (autodiscovery only imports ``tasks.py``).
The services are idempotent, so a redelivered task (``acks_late``) finds its work done.
"""

from __future__ import annotations

import datetime as dt
import smtplib

from celery import shared_task
from django.db import OperationalError
from django.db.models import F
from django.utils import timezone

from . import receipts
from .models import Receipt, ReceiptEvent

STUCK_AFTER = dt.timedelta(minutes=10)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_receipt(receipt_id: int) -> None:
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is not None:
        receipts.store_receipt_pdf(receipt=receipt)


@shared_task(
    autoretry_for=(OperationalError, smtplib.SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def send_receipt_mail(event_id: int) -> None:
    event = ReceiptEvent.objects.filter(pk=event_id).first()
    if event is not None:
        receipts.mail_receipt_event(event=event)


@shared_task
def sweep_receipts() -> None:
    """Queue again what a lost task left undone: PDFs not rendered, decline mails not sent.

    (A task is lost when the broker was down at commit time; DESIGN 6, nothing is lost.)
    Issued mails are queued by the render, so re-rendering covers them.
    """
    before = timezone.now() - STUCK_AFTER
    stale = Receipt.objects.filter(
        state=Receipt.State.ISSUED, last_issued_at__lt=before, pdf_issue_count__lt=F("issue_count")
    )
    for receipt_id in stale.values_list("pk", flat=True):
        render_receipt.delay(receipt_id)
    unsent = ReceiptEvent.objects.filter(
        mailed_at__isnull=True, created_at__lt=before, created_at__gte=before - dt.timedelta(days=3)
    ).filter(
        kind__in=ReceiptEvent.MAILED_KINDS,
        receipt__issue_count=F("issue_count"),
        receipt__pdf_issue_count=F("issue_count"),
    )
    for event_id in unsent.values_list("pk", flat=True):
        send_receipt_mail.delay(event_id)
