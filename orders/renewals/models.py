"""Automatic renewal: the customer's consent and card, and each attempt to charge (DESIGN 6a).

``License.auto_renew`` is the switch (T3 and the expiry reminders read it); ``AutoRenewal``
holds what the switch rests on: the saved card, the term renewed, and the consent (time and
version of the text shown). Each charge is an ``orders.Order`` of kind "automatic", unique per
license and expiry date; each try to pay it is a ``RenewalAttempt``, unique per order and slot of
the retry schedule, claimed before Stripe is called.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.models import TERM_CHOICES, License
from orders.models import Order, Payment, SavedCard


class AutoRenewal(models.Model):
    class Source(models.TextChoices):
        CHECKOUT = "checkout", _("At checkout")
        LICENSE_PAGE = "license_page", _("On the license page")

    license = models.OneToOneField(
        License,
        on_delete=models.CASCADE,
        related_name="automatic_renewal",
        verbose_name=_("license"),
    )
    card = models.ForeignKey(
        SavedCard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="automatic_renewals",
        verbose_name=_("card"),
    )
    term_years = models.PositiveSmallIntegerField(_("term (years)"), choices=TERM_CHOICES)
    consented_at = models.DateTimeField(_("consent given at"))
    terms_version = models.CharField(_("version of the terms shown"), max_length=20)
    source = models.CharField(_("switched on"), max_length=20, choices=Source.choices)
    switched_off_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automatic renewal")
        verbose_name_plural = _("automatic renewals")

    def __str__(self) -> str:
        return str(self.license)


class RenewalAttempt(models.Model):
    """One off-session charge of an automatic order at one point of the retry schedule."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Charging")
        SUCCEEDED = "succeeded", _("Paid")
        DECLINED = "declined", _("Card declined")
        AUTHENTICATION_REQUIRED = "authentication_required", _("3-D Secure needed")
        ERROR = "error", _("Stripe unavailable")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="renewal_attempts", verbose_name=_("order")
    )
    slot = models.SmallIntegerField(
        _("days before expiry"), help_text=_("The point of the retry schedule it belongs to.")
    )
    run_on = models.DateField(_("run for the day"))
    payment = models.OneToOneField(
        Payment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewal_attempt",
        verbose_name=_("payment"),
    )
    outcome = models.CharField(
        _("outcome"), max_length=30, choices=Outcome.choices, default=Outcome.PENDING
    )
    failure_code = models.CharField(_("failure code"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    finished_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("automatic renewal attempt")
        verbose_name_plural = _("automatic renewal attempts")
        constraints = [
            models.UniqueConstraint(fields=["order", "slot"], name="renewal_attempt_once_per_slot"),
            models.CheckConstraint(
                condition=Q(slot__gte=0), name="renewal_attempt_slot_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number} −{self.slot}"


class RenewalNotice(models.Model):
    """A mail about an upcoming automatic charge, sent once per license, expiry date and kind."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("Upcoming charge")
        CARD_EXPIRES = "card_expires", _("Card expires before the charge")

    license = models.ForeignKey(
        License,
        on_delete=models.CASCADE,
        related_name="renewal_notices",
        verbose_name=_("license"),
    )
    expires_on = models.DateField(_("expiry date"))
    kind = models.CharField(_("mail"), max_length=20, choices=Kind.choices)
    to = models.EmailField(_("to"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("automatic renewal notice")
        verbose_name_plural = _("automatic renewal notices")
        constraints = [
            models.UniqueConstraint(
                fields=["license", "expires_on", "kind"], name="renewal_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.license_id} {self.expires_on} {self.kind}"
