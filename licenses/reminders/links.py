"""The signed links of a reminder mail: "Renew now" and the one-click unsubscribe.

"Renew now" opens the choice page of one license without signing in or typing the activation
code (DESIGN 8), so its token is bound to the license *and* the expiry date the mail was about,
and it expires (``REMINDER_LINK_MAX_AGE_DAYS``): once the license was renewed, or the link is
old, it opens nothing. The unsubscribe token names the customer only and does not expire: an
unsubscribe link must keep working (RFC 8058), and all it can do is switch reminders off or on.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.translation import gettext_lazy as _

from licenses.models import License

_RENEW_SALT = "licenses.reminders.renew"
_UNSUBSCRIBE_SALT = "licenses.reminders.unsubscribe"


class RenewLinkError(Exception):
    """The link opens nothing; the message says why and what to do, ``status`` is the answer's."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RenewLinkInvalid(RenewLinkError):
    status = 404


class RenewLinkExpired(RenewLinkError):
    status = 410


def renew_token(*, license: License) -> str:
    return signing.dumps([license.pk, license.expires_on.isoformat()], salt=_RENEW_SALT)


def license_for_renew_token(token: str) -> License:
    """The license a "Renew now" link was made for, or ``RenewLinkError``."""
    max_age = dt.timedelta(days=settings.REMINDER_LINK_MAX_AGE_DAYS)
    try:
        license_id, expires_on = signing.loads(token, salt=_RENEW_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise RenewLinkExpired(
            _(
                "This renewal link has expired. Sign in and open “My licenses”, or use the "
                "“Renew now” button of the program installed on your device."
            )
        ) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise RenewLinkInvalid(
            _(
                "This renewal link is not valid. Please open it exactly as it appears in the "
                "mail, or use the “Renew now” button of the program installed on your device."
            )
        ) from error
    license = License.objects.select_related("product").filter(pk=license_id).first()
    if license is None:
        raise RenewLinkInvalid(_("This renewal link is not valid."))
    if license.expires_on.isoformat() != expires_on:
        raise RenewLinkExpired(
            _(
                "This renewal link is out of date: the expiry date of the license has changed "
                "since the mail was sent (it may already have been renewed). Sign in and open "
                "“My licenses” to see the current expiry date."
            )
        )
    return license


def unsubscribe_token(*, user) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign(str(user.pk))


def user_for_unsubscribe_token(token: str):
    """The customer an unsubscribe link was made for, or None for a forged one."""
    try:
        user_id = int(signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return get_user_model()._default_manager.filter(pk=user_id).first()
