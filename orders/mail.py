"""Mails about an order, each sent at most once per key (T7, T8), in the order's language."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Order, SentMail
from .selectors import guest_access_token

logger = logging.getLogger(__name__)


def order_url(order: Order, name: str = "orders:detail") -> str:
    """An absolute link to one of the order's pages; guests get a signed access token in it."""
    with translation.override(order.language):
        url = settings.SITE_URL.rstrip("/") + reverse(name, args=[order.number])
    if order.customer_id is None:
        url += "?access=" + guest_access_token(order)
    return url


def send_order_mail(*, order: Order, template: str, key: str | None = None, context=None) -> bool:
    """Render ``mail/<template>.txt`` and ``.html`` and send them once for ``key``.

    The SentMail row and the sending share one transaction: a failure to send rolls the row
    back, so a retry sends again; a second run finds the row and sends nothing.
    """
    key = key or template
    recipient = order.contact_email
    if not recipient:
        return False
    try:
        with transaction.atomic():
            SentMail.objects.create(order=order, key=key, to=recipient)
            with translation.override(order.language):
                data = {
                    "order": order,
                    "license": order.license,
                    "product": order.product,
                    "order_url": order_url(order),
                    "shop_name": settings.SHOP_NAME,
                    "seller": settings.SELLER,
                    "statement_descriptor": settings.STRIPE_STATEMENT_DESCRIPTOR,
                    "site_url": settings.SITE_URL,
                    **(context or {}),
                }
                subject = render_to_string(f"mail/{template}_subject.txt", data).strip()
                message = EmailMultiAlternatives(
                    subject=subject,
                    body=render_to_string(f"mail/{template}.txt", data),
                    to=[recipient],
                )
                message.attach_alternative(
                    render_to_string(f"mail/{template}.html", data), "text/html"
                )
                message.send()
    except IntegrityError:
        logger.info("Mail %s for order %s was already sent", key, order.number)
        return False
    return True
