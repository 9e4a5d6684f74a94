"""Mails about an account (sign-up, password reset), each sent once per request it answers.

Services queue ``send_account_mail`` (on commit, through the task base); the worker renders and
sends it through the one mail path, ``config.mail.send_once``, in the language of the page the
visitor used. Links with tokens are made here, on the worker, so no token travels through the
broker.
"""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from config.celery import RETRY_WITH_BACKOFF
from config.mail import send_once, site_url

from .models import AccountMail
from .tokens import signup_token_generator

# template -> the view its link opens and the token that proves the mail was received
_LINKS = {
    "signup_confirm": ("signup_confirm", signup_token_generator),
    "password_reset": ("password_reset_confirm", default_token_generator),
}


def mail_account(*, user, template: str, key: str, language: str) -> bool:
    """Send ``mail/<template>`` to the account's address unless ``key`` was sent already."""
    with translation.override(language):
        context = {
            "user": user,
            "login_url": site_url(reverse("login")),
            "password_reset_url": site_url(reverse("password_reset")),
        }
        if template in _LINKS:
            view, tokens = _LINKS[template]
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            context["link"] = site_url(reverse(view, args=[uid, tokens.make_token(user)]))
    return send_once(
        record=AccountMail(user=user, key=key, to=user.email),
        template=template,
        to=user.email,
        language=language,
        context=context,
    )


@shared_task(**RETRY_WITH_BACKOFF)
def send_account_mail(user_id: int, template: str, key: str, language: str) -> bool:
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        return False
    return mail_account(user=user, template=template, key=key, language=language)
