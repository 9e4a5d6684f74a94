from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    """Expiry reminders (DESIGN 8): a nested app of ``licenses`` with its own record, sweep,
    mail, unsubscribe page and admin."""

    name = "licenses.reminders"
    label = "reminders"
    verbose_name = _("Expiry reminders")
