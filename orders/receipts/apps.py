from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiptsConfig(AppConfig):
    """Receipts (領収書) on request: a nested app of ``orders`` (its models were ``orders.*``)."""

    name = "orders.receipts"
    label = "receipts"
    verbose_name = _("Receipts")
