"""The customer's language for mails follows the language they use the shop in (DESIGN 8).

Connected in ``LicensesConfig.ready()``: sign-in (Django's ``user_logged_in``) and the header's
language switch (``config.i18n.language_switched``). Sign-up stores it in ``create_customer``.
"""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import get_language

from config.i18n import language_switched

from . import services


@receiver(user_logged_in, dispatch_uid="licenses.language_at_sign_in")
def remember_language_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None:
        services.remember_language(
            user=user, language=getattr(request, "LANGUAGE_CODE", None) or get_language()
        )


@receiver(language_switched, dispatch_uid="licenses.language_switched")
def remember_switched_language(sender, request, language: str, **kwargs) -> None:
    if request.user.is_authenticated:
        services.remember_language(user=request.user, language=language)
