"""Orders, payment attempts, Stripe webhook events and the record of mails sent.

State changes happen only in services (``orders.services`` for the checkout, ``orders.fulfilment``,
``orders.payments``): one guarded, idempotent function per transition.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.models import TAX_RATE, TERM_CHOICES, License, Price, PriceKind, Product, RenewalPath

from .payments.failures import failure_message

# Crockford's base32 without I, L, O, U: readable aloud over the phone, no look-alikes.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number() -> str:
    """``R261122-7K3Q9X2M``: the date for people, 40 random bits so URLs cannot be guessed."""
    random_part = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"R{timezone.localdate():%y%m%d}-{random_part}"


class Order(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DETAILS_ENTERED = "details_entered", _("Details entered")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        REQUIRES_ACTION = "requires_action", _("Awaiting 3-D Secure")
        PAID = "paid", _("Paid, extension pending")
        FULFILLED = "fulfilled", _("Completed")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        CANCELED = "canceled", _("Canceled")
        REFUNDED = "refunded", _("Refunded")

    number = models.CharField(
        _("order number"), max_length=20, unique=True, default=new_order_number, editable=False
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("customer"),
        help_text=_("Empty for a guest who came from the installed program."),
    )
    email = models.EmailField(_("contact email"), blank=True)
    license = models.ForeignKey(
        License, on_delete=models.PROTECT, related_name="orders", verbose_name=_("license")
    )
    from_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product before")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product ordered")
    )
    path_kind = models.CharField(_("kind"), max_length=20, choices=RenewalPath.Kind.choices)
    term_years = models.PositiveSmallIntegerField(_("term (years)"), choices=TERM_CHOICES)
    price = models.ForeignKey(
        Price, on_delete=models.PROTECT, related_name="+", verbose_name=_("price row")
    )
    price_kind = models.CharField(_("price kind"), max_length=10, choices=PriceKind.choices)
    # Frozen at order time (J1): what the customer saw is what is charged.
    amount = models.PositiveIntegerField(_("total (JPY, tax included)"))
    tax = models.PositiveIntegerField(_("consumption tax included (JPY)"))
    tax_rate = models.PositiveSmallIntegerField(_("tax rate (%)"), default=TAX_RATE)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    language = models.CharField(_("language"), max_length=8, default="ja")
    terms_accepted_at = models.DateTimeField(_("terms accepted at"), null=True, blank=True)
    terms_versions = models.JSONField(_("versions agreed to"), default=dict, blank=True)
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=Q(tax__lt=F("amount")), name="order_tax_below_total"),
            models.CheckConstraint(
                condition=Q(term_years__gte=1, term_years__lte=3), name="order_term_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(email="") | Q(status="draft"),
                name="order_has_customer_or_email",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="order_status_updated_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_upgrade(self) -> bool:
        return self.path_kind == RenewalPath.Kind.UPGRADE

    @property
    def is_paid(self) -> bool:
        return self.status in (self.Status.PAID, self.Status.FULFILLED)

    @property
    def subtotal(self) -> int:
        """The amount without tax, for the receipt breakdown."""
        return self.amount - self.tax

    @property
    def contact_email(self) -> str:
        return self.email or (self.customer.email if self.customer_id else "")


class Payment(models.Model):
    """One payment attempt of an order: a card, at most one PaymentIntent."""

    class Status(models.TextChoices):
        CARD_ADDED = "card_added", _("Card added")
        PROCESSING = "processing", _("Processing")
        REQUIRES_ACTION = "requires_action", _("Awaiting 3-D Secure")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="payments", verbose_name=_("order")
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    amount = models.PositiveIntegerField(_("amount (JPY)"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CARD_ADDED
    )
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=64)
    stripe_payment_method = models.CharField(_("Stripe card"), max_length=64)
    stripe_payment_intent = models.CharField(
        _("Stripe PaymentIntent"), max_length=64, null=True, blank=True, unique=True
    )
    stripe_charge = models.CharField(_("Stripe charge"), max_length=64, blank=True)
    stripe_refund = models.CharField(_("Stripe refund"), max_length=64, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=30, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["order", "attempt"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="payment_attempt_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} #{self.attempt}"

    @property
    def failure_text(self) -> str:
        """The failure in the reader's language (the code is stored; a message is only text)."""
        if not self.failure_code:
            return self.failure_message
        return failure_message(self.failure_code)

    @property
    def idempotency_key(self) -> str:
        """One Stripe Idempotency-Key per order attempt (DESIGN 5.3)."""
        return f"order-{self.order.number}-attempt-{self.attempt}"


class WebhookEvent(models.Model):
    """Every Stripe event received, stored before it is processed (DESIGN 5.5)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed, will retry")

    stripe_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [models.Index(fields=["status", "received_at"], name="webhook_status_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class SentMail(models.Model):
    """One row per mail about an order that must go out once (T7, T8, receipts): the unique
    (order, key) makes retries safe (``config.mail.send_once``)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="sent_mails", verbose_name=_("order")
    )
    key = models.CharField(_("mail"), max_length=60)
    to = models.EmailField(_("to"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["sent_at"]
        verbose_name = _("sent mail")
        verbose_name_plural = _("sent mails")
        constraints = [
            models.UniqueConstraint(fields=["order", "key"], name="sent_mail_once_per_order_key")
        ]

    def __str__(self) -> str:
        return f"{self.order.number} {self.key}"
