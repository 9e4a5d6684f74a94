"""Receipts (領収書, K9, J5, DESIGN 7): the requests, the issued receipts and their audit trail.

Changes go through ``orders.receipts.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order


class Receipt(models.Model):
    """A customer's request for a receipt and, once staff issue it, the receipt itself.

    The number comes from ``ReceiptCounter`` in the same transaction as the issue, so a rolled-back
    issue leaves no gap. A reissue keeps the number and raises ``issue_count``; ``pdf_issue_count``
    says which issue the stored file shows, so the download waits until the worker has rendered
    the latest one.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        DECLINED = "declined", _("Declined")

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("order")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.REQUESTED
    )
    addressee = models.CharField(_("addressee"), max_length=40)
    proviso = models.CharField(_("proviso"), max_length=60)
    number = models.CharField(
        _("receipt number"), max_length=20, unique=True, null=True, blank=True, editable=False
    )
    issue_count = models.PositiveSmallIntegerField(
        _("times issued"), default=0, help_text=_("1 for the original; each reissue adds one.")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    issued_at = models.DateTimeField(_("first issued at"), null=True, blank=True)
    last_issued_at = models.DateTimeField(
        _("last issued at"),
        null=True,
        blank=True,
        help_text=_("The issue date printed on the receipt; a reissue moves it."),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last issued by"),
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="receipts/%Y/", blank=True, editable=False)
    pdf_issue_count = models.PositiveSmallIntegerField(
        _("PDF rendered for issue"), default=0, editable=False
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        permissions = [("issue_receipt", "Can issue, reissue and decline receipts")]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state="requested"),
                name="receipt_one_open_request_per_order",
            ),
            # One payment, one receipt: a second copy is a reissue of the same number.
            models.UniqueConstraint(
                fields=["order"], condition=Q(state="issued"), name="receipt_one_issued_per_order"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        state="issued",
                        number__isnull=False,
                        issue_count__gte=1,
                        issued_at__isnull=False,
                        last_issued_at__isnull=False,
                    )
                    | (~Q(state="issued") & Q(number__isnull=True, issue_count=0))
                ),
                name="receipt_number_exactly_when_issued",
            ),
            models.CheckConstraint(
                condition=Q(pdf_issue_count__lte=F("issue_count")),
                name="receipt_pdf_not_ahead_of_issue",
            ),
        ]
        indexes = [models.Index(fields=["state", "requested_at"], name="receipt_queue_idx")]

    def __str__(self) -> str:
        return self.number or f"{self.order.number} ({self.get_state_display()})"

    @property
    def reissue_count(self) -> int:
        return max(self.issue_count - 1, 0)

    @property
    def is_downloadable(self) -> bool:
        """Issued, and the stored PDF shows the latest (re)issue."""
        return (
            self.state == self.State.ISSUED
            and bool(self.pdf)
            and self.pdf_issue_count == self.issue_count
        )

    @property
    def download_name(self) -> str:
        return f"receipt-{self.number}.pdf"


class ReceiptEvent(models.Model):
    """The audit trail of a receipt: who did what and when (``actor`` empty: the worker)."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        REISSUED = "reissued", _("Reissued")
        DECLINED = "declined", _("Declined")
        RENDERED = "rendered", _("PDF stored")

    MAILED_KINDS = (Kind.ISSUED, Kind.REISSUED, Kind.DECLINED)

    receipt = models.ForeignKey(
        Receipt, on_delete=models.CASCADE, related_name="events", verbose_name=_("receipt")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    issue_count = models.PositiveSmallIntegerField(_("times issued"), default=0)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("receipt event")
        verbose_name_plural = _("receipt events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def mail_template(self) -> str:
        return "receipt_declined" if self.kind == self.Kind.DECLINED else "receipt_issued"

    @property
    def mail_key(self) -> str:
        """The ``SentMail`` key of the customer's mail about this event: sent once."""
        return f"{self.mail_template}:{self.pk}"


class ReceiptCounter(models.Model):
    """The last receipt number used in a year; its row is locked while a number is taken."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number used"), default=0)

    class Meta:
        verbose_name = _("receipt number counter")
        verbose_name_plural = _("receipt number counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
