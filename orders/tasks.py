"""Celery tasks: take ids, load, call one service. Retries live here; idempotency in services."""

from celery import shared_task

from . import clearing, services
from .mail import order_url, send_order_mail
from .models import Order, WebhookEvent
from .selectors import latest_payment

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}


@shared_task(**RETRY)
def fulfil_order(order_id: int) -> bool:
    """T8: extend the license of a paid order (exactly once, see services.extend_license)."""
    order = Order.objects.filter(pk=order_id).first()
    return bool(order) and services.extend_license(order=order)


@shared_task(**RETRY)
def send_order_completed_mail(order_id: int) -> bool:
    order = Order.objects.select_related("license", "product").get(pk=order_id)
    return send_order_mail(order=order, template="order_completed")


@shared_task(**RETRY)
def send_license_extended_mail(order_id: int) -> bool:
    order = Order.objects.select_related("license", "product").get(pk=order_id)
    return send_order_mail(order=order, template="license_extended")


@shared_task(**RETRY)
def send_payment_failed_mail(order_id: int) -> bool:
    order = Order.objects.select_related("license", "product").get(pk=order_id)
    payment = latest_payment(order=order)
    attempt = payment.attempt if payment else 0
    return send_order_mail(
        order=order,
        template="payment_failed",
        key=f"payment_failed:{attempt}",
        context={"payment": payment, "retry_url": order_url(order, "orders:details")},
    )


@shared_task(**RETRY)
def send_refund_mail(order_id: int) -> bool:
    order = Order.objects.select_related("license", "product").get(pk=order_id)
    return send_order_mail(order=order, template="refund_done")


@shared_task(**RETRY)
def process_webhook_event(event_id: int) -> str:
    """Stripe event → re-read the PaymentIntent → sync. Failures retry with backoff."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return "missing"
    return clearing.process_webhook_event(event=event).status


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=240, time_limit=300)
def reconcile_payments() -> dict:
    """Periodic (beat): re-read stuck orders, re-queue unfinished work (DESIGN 6)."""
    return vars(clearing.reconcile_payments())
