"""Fulfilment (T8, K10, DESIGN 6): a paid order extends its license exactly once.

``payments.sync`` queues ``fulfil_order`` when an order becomes paid; reconciliation queues it
again for paid orders a lost or killed task left unextended. Running it twice, or on two workers
at once, extends once.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import RETRY_WITH_BACKOFF
from licenses.dates import extended_expiry
from licenses.models import LicenseEvent, RenewalPath
from licenses.services import record_license_change

from .mail import send_order_mail
from .models import Order

logger = logging.getLogger(__name__)
S = Order.Status


def extend_license(*, order: Order) -> bool:
    """K10, T8: extend the license once for a paid order. Returns True if this call did it.

    Locks the order and the license; the ledger's unique (order, kind) row is the last guard
    should two workers get here at once on a database without row locks. Only ``order.pk`` is
    read from the argument: the order is read again under its lock, in one statement with its
    license (locked too); the ledger takes the products by id, so a renewal is four statements
    and a commit (an upgrade reads its new product too; bench/extension.py).
    """
    try:
        with transaction.atomic():
            try:
                order = (
                    Order.objects.select_related("license")
                    .select_for_update(of=("self", "license"))
                    .get(pk=order.pk)
                )
            except Order.DoesNotExist:
                return False
            if order.status != S.PAID:
                return False
            license = order.license
            record_license_change(
                license=license,
                kind=(
                    LicenseEvent.Kind.UPGRADED
                    if order.path_kind == RenewalPath.Kind.UPGRADE
                    else LicenseEvent.Kind.RENEWED
                ),
                new_expires_on=extended_expiry(
                    expires_on=license.expires_on,
                    term_years=order.term_years,
                    paid_on=timezone.localdate(order.paid_at),
                ),
                # A renewal keeps its product (no product read); an upgrade reads the new one.
                new_product=None if order.product_id == license.product_id else order.product,
                order=order,
                note=order.number,
            )
            order.status = S.FULFILLED
            order.fulfilled_at = timezone.now()
            order.save(update_fields=["status", "fulfilled_at", "updated_at"])
            send_order_mail.delay(order.pk, "license_extended")
    except IntegrityError:
        logger.info("Order %s was extended by a concurrent worker", order.number)
        return False
    return True


def nudge_fulfilment(*, order: Order) -> bool:
    """Issue 9, point 15: a paid order still not extended FULFIL_NUDGE_SECONDS after it was
    paid gets its extension queued again whenever it is synced later (a webhook, the customer's
    status poll; the sweep queues it too), so a task lost with a killed worker does not wait for
    the sweep. At most once per that interval per order and process, so twenty duplicate events
    or a polling page queue a handful of idempotent tasks, not one each."""
    wait = dt.timedelta(seconds=settings.FULFIL_NUDGE_SECONDS)
    if order.status != S.PAID or not order.paid_at or order.paid_at > timezone.now() - wait:
        return False
    if not cache.add(f"fulfil-nudge:{order.pk}", 1, timeout=max(1, int(wait.total_seconds()))):
        return False
    fulfil_order.delay(order.pk)
    return True


@shared_task(**RETRY_WITH_BACKOFF)
def fulfil_order(order_id: int) -> bool:
    """T8: extend the license of a paid order (exactly once, see ``extend_license``, which reads
    the order itself under its lock: no read before it)."""
    return extend_license(order=Order(pk=order_id))
