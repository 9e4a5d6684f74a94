"""Mails about an order (T7, T8, payment failures, refunds, receipts), each sent once per key.

Services queue ``send_order_mail`` (on commit, through the task base); the worker renders and
sends it through the one mail path, ``config.mail.send_once``, in the order's language. What a
mail says beyond the order itself comes in ``extra``: plain values fixed when the mail was queued
(the receipt number of that issue; ``attempt``, the payment attempt a failure mail is about).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from config.celery import RETRY_WITH_BACKOFF
from config.mail import send_once, site_url

from .access import guest_access_token
from .models import Order, SentMail


def order_url(order: Order, name: str = "orders:detail") -> str:
    """An absolute link to one of the order's pages; guests get a signed access token in it."""
    with translation.override(order.language):
        url = site_url(reverse(name, args=[order.number]))
    if order.customer_id is None:
        url += "?access=" + guest_access_token(order)
    return url


def mail_order(
    *, order: Order, template: str, key: str | None = None, extra: dict[str, Any] | None = None
) -> bool:
    """Send ``mail/<template>`` about ``order`` unless its ``key`` (default: the template) went."""
    key = key or template
    recipient = order.contact_email
    extra = extra or {}
    attempt = extra.get("attempt")
    return send_once(
        record=SentMail(order=order, key=key, to=recipient),
        template=template,
        to=recipient,
        language=order.language,
        context={
            "order": order,
            "license": order.license,
            "product": order.product,
            "order_url": order_url(order),
            "payment_url": order_url(order, "orders:details"),
            "payment": order.payments.filter(attempt=attempt).first() if attempt else None,
            "statement_descriptor": settings.STRIPE_STATEMENT_DESCRIPTOR,
            **extra,
        },
    )


@shared_task(follow_up=True, **RETRY_WITH_BACKOFF)
def send_order_mail(
    order_id: int, template: str, key: str | None = None, extra: dict[str, Any] | None = None
) -> bool:
    order = Order.objects.select_related("license", "product", "customer").get(pk=order_id)
    return mail_order(order=order, template=template, key=key, extra=extra)
