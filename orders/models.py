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
    class Attention(models.TextChoices):
        """Why an operator must look at the order (admin filter "needs attention")."""

        AMOUNT_MISMATCH = "amount_mismatch", _("Amount or currency differs from the order")
        DUPLICATE_REFUNDED = "duplicate_refunded", _("Duplicate charge refunded automatically")
        REFUND_FAILED = "refund_failed", _("Refund failed")
        DISPUTED = "disputed", _("Disputed by the card holder")

    class Kind(models.TextChoices):
        CHECKOUT = "checkout", _("Bought in the shop")
        AUTOMATIC = "automatic", _("Automatic renewal")

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
    kind = models.CharField(
        _("order kind"), max_length=10, choices=Kind.choices, default=Kind.CHECKOUT
    )
    renews_expiry = models.DateField(
        _("expiry date renewed automatically"),
        null=True,
        blank=True,
        help_text=_("Automatic renewals: the expiry date this charge renews (one order per date)."),
    )
    auto_renew = models.BooleanField(
        _("automatic renewal requested"),
        default=False,
        help_text=_(
            "The customer opted in to automatic renewal with this card at the details step; "
            "the consent time is the terms' time, the text's version is in the versions agreed to."
        ),
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
    stripe_setup_intent = models.CharField(
        _("Stripe SetupIntent"),
        max_length=64,
        blank=True,
        help_text=_("The SetupIntent of the details step in progress, if any."),
    )
    amount_refunded = models.PositiveIntegerField(
        _("refunded (JPY)"), default=0, help_text=_("Refunds Stripe reports as succeeded.")
    )
    attention = models.CharField(
        _("needs attention"), max_length=30, choices=Attention.choices, blank=True
    )
    attention_note = models.TextField(_("attention note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)

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
            # DESIGN 6a: reruns, two beats or a retried task never make a second charge.
            models.UniqueConstraint(
                fields=["license", "renews_expiry"],
                condition=Q(kind="automatic"),
                name="order_one_automatic_per_license_expiry",
            ),
            models.CheckConstraint(
                condition=Q(kind="checkout") | Q(renews_expiry__isnull=False),
                name="order_automatic_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="order_status_updated_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_upgrade(self) -> bool:
        return self.path_kind == RenewalPath.Kind.UPGRADE

    @property
    def is_automatic(self) -> bool:
        return self.kind == self.Kind.AUTOMATIC

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

    @property
    def partly_refunded(self) -> bool:
        return 0 < self.amount_refunded < self.amount


class Payment(models.Model):
    """One payment attempt of an order: a card, at most one PaymentIntent."""

    class Status(models.TextChoices):
        CARD_ADDED = "card_added", _("Card added")
        PROCESSING = "processing", _("Processing")
        REQUIRES_ACTION = "requires_action", _("Awaiting 3-D Secure")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        CANCELED = "canceled", _("Not used")
        DUPLICATE = "duplicate", _("Duplicate charge, refunded")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="payments", verbose_name=_("order")
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    amount = models.PositiveIntegerField(_("amount (JPY)"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CARD_ADDED
    )
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=64)
    stripe_payment_method = models.CharField(_("Stripe PaymentMethod"), max_length=64)
    stripe_payment_intent = models.CharField(
        _("Stripe PaymentIntent"), max_length=64, null=True, blank=True, unique=True
    )
    stripe_charge = models.CharField(_("Stripe charge"), max_length=64, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=30, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    keep_card = models.BooleanField(
        _("keep the card"),
        default=False,
        help_text=_(
            "The customer asked to keep this card for next time (or paid with a saved one)."
        ),
    )
    card_settled_at = models.DateTimeField(
        _("card kept or removed at"),
        null=True,
        blank=True,
        help_text=_("When the card was saved for the customer or detached at Stripe."),
    )
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


class StripeCustomer(models.Model):
    """The account's one Stripe Customer (DESIGN 5.2); guests get one per order instead."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stripe_customer",
        verbose_name=_("account"),
    )
    stripe_id = models.CharField(_("Stripe customer"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")

    def __str__(self) -> str:
        return self.stripe_id


class SavedCard(models.Model):
    """A PaymentMethod kept on the account's Stripe Customer with the customer's consent."""

    customer = models.ForeignKey(
        StripeCustomer, on_delete=models.CASCADE, related_name="cards", verbose_name=_("customer")
    )
    stripe_payment_method = models.CharField(_("Stripe PaymentMethod"), max_length=64, unique=True)
    brand = models.CharField(_("card brand"), max_length=30)
    last4 = models.CharField(_("card last 4"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        ordering = ["-saved_at", "-id"]
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")

    def __str__(self) -> str:
        return f"{self.brand} **** {self.last4}"


class Refund(models.Model):
    """A refund at Stripe of one of our PaymentIntents: an operator's, one made in Stripe's
    dashboard and reported by webhook, or the automatic refund of a duplicate charge."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested, no answer yet")
        PENDING = "pending", _("Pending")
        REQUIRES_ACTION = "requires_action", _("Requires action at Stripe")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    class Reason(models.TextChoices):
        OPERATOR = "operator", _("Refunded by an operator")
        STRIPE = "stripe", _("Made at Stripe (dashboard)")
        DUPLICATE = "duplicate", _("Duplicate charge")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("order")
    )
    stripe_id = models.CharField(
        _("Stripe refund"), max_length=64, null=True, blank=True, unique=True
    )
    stripe_payment_intent = models.CharField(_("Stripe PaymentIntent"), max_length=64)
    amount = models.PositiveIntegerField(_("amount (JPY)"))
    currency = models.CharField(_("currency"), max_length=3, default="jpy")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            # One automatic refund per duplicate PaymentIntent, claimed before Stripe is called.
            models.UniqueConstraint(
                fields=["stripe_payment_intent"],
                condition=Q(reason="duplicate"),
                name="refund_once_per_duplicate_charge",
            ),
        ]

    def __str__(self) -> str:
        return self.stripe_id or f"{self.order.number} ({self.get_status_display()})"


class Dispute(models.Model):
    """A card holder's dispute (chargeback) of one of our payments (DESIGN 5.8)."""

    LOST = "lost"
    CLOSED = ("won", "lost", "prevented", "warning_closed")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("order")
    )
    stripe_id = models.CharField(_("Stripe dispute"), max_length=64, unique=True)
    stripe_charge = models.CharField(_("Stripe charge"), max_length=64, blank=True)
    amount = models.PositiveIntegerField(_("amount (JPY)"))
    currency = models.CharField(_("currency"), max_length=3, default="jpy")
    status = models.CharField(_("status"), max_length=30)
    reason = models.CharField(_("reason"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED


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
