"""The one mail path: every mail the shop sends goes through ``send_once``.

A mail is rendered from ``templates/mail/<template>_subject.txt``, ``<template>.txt`` and
``<template>.html`` (which extends ``mail/_layout.html``) in the customer's language, with the same
context names everywhere (``shop_name``, ``seller``, ``site_url``, ``language``), and sent at most
once per purpose: the caller passes an unsaved row whose unique constraint names that purpose
(an order's mail key, a receipt event, a reminder's license, expiry date and offset). The row is
saved in the transaction that sends, so a failure to send rolls it back and a retry sends again,
while a second run finds the row and sends nothing. Apps call it from their Celery tasks only:
never inside a request.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """An absolute link for a mail: ``SITE_URL`` plus a path of this site."""
    return settings.SITE_URL.rstrip("/") + path


def render_mail(
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """The message with its text and HTML parts, rendered in ``language``."""
    with translation.override(language or settings.LANGUAGE_CODE):
        data = {
            "shop_name": settings.SHOP_NAME,
            "seller": settings.SELLER,
            "site_url": settings.SITE_URL.rstrip("/"),
            "language": translation.get_language(),
            **context,
        }
        subject = " ".join(render_to_string(f"mail/{template}_subject.txt", data).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"mail/{template}.txt", data),
            to=[to],
            headers=headers or {},
        )
        message.attach_alternative(render_to_string(f"mail/{template}.html", data), "text/html")
    return message


def send_once(
    *,
    record: models.Model,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> bool:
    """Send the mail unless ``record`` (an unsaved row, unique per purpose) already exists.

    Returns True when this call sent it. A worker dying between sending and committing is the
    only way a mail can go twice; none is lost.
    """
    if not to:
        logger.warning("Mail %s has no recipient", template)
        return False
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            render_mail(
                template=template, to=to, language=language, context=context, headers=headers
            ).send()
    except IntegrityError:
        logger.info("Mail %s (%s) was already sent", template, record)
        return False
    return True
