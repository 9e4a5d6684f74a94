from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class LicensesConfig(AppConfig):
    name = "licenses"
    verbose_name = _("Licenses and catalog")

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the deploy checks)
            signals,  # noqa: F401  (connects the receivers)
        )

        post_migrate.connect(_ensure_groups, dispatch_uid="licenses.ensure_staff_groups")


def _ensure_groups(sender, **kwargs) -> None:
    """After every migrate, so a new model's permissions reach the support group at once."""
    from .services import ensure_staff_groups

    ensure_staff_groups(using=kwargs.get("using", "default"))
