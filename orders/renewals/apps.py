from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RenewalsConfig(AppConfig):
    """Automatic renewal (あんしん自動更新, DESIGN 6a): a nested app of ``orders``."""

    name = "orders.renewals"
    label = "renewals"
    verbose_name = _("Automatic renewals")

    def ready(self) -> None:
        # The parent app announces what renewals must follow (a card kept at checkout, a saved
        # card removed) through signals: ``orders`` never imports this app.
        from . import receivers  # noqa: F401  (connects the receivers)
