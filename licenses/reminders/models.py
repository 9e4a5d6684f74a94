"""One row per expiry reminder that went out (DESIGN 3 "Reminder sent", 8)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.models import License


class ReminderSent(models.Model):
    """A reminder about one expiry date of one license at one offset, sent once.

    The unique (license, expiry date, offset) is what makes a rerun, a second beat or a retried
    task harmless (``config.mail.send_once`` saves the row in the transaction that sends). It is
    keyed by the expiry date the mail was about: a license renewed since has a new expiry date
    and gets the reminders of that date, never again those of the old one.
    """

    license = models.ForeignKey(
        License, on_delete=models.CASCADE, related_name="reminders_sent", verbose_name=_("license")
    )
    expires_on = models.DateField(_("expiry date reminded of"))
    offset_days = models.SmallIntegerField(
        _("days before expiry"), help_text=_("Negative: days after the expiry date.")
    )
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=10)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["license", "expires_on", "offset_days"],
                name="reminder_sent_once_per_license_expiry_offset",
            )
        ]
        indexes = [models.Index(fields=["sent_at"], name="reminder_sent_at_idx")]

    def __str__(self) -> str:
        return f"{self.license_id} {self.expires_on} {self.offset_days:+d}"
