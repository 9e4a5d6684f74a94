"""The one-click unsubscribe from expiry reminders (DESIGN 8, RFC 8058), no sign-in needed.

GET shows what the link does and a button; POST switches reminders off. Mail clients that
honour ``List-Unsubscribe-Post`` POST ``List-Unsubscribe=One-Click`` to the same URL without a
cookie or a CSRF token, hence ``csrf_exempt``: the signed token in the URL is the credential,
and all it can do is switch this customer's reminders off (or on again).
"""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from licenses import selectors, services

from .links import user_for_unsubscribe_token


def _masked(email: str) -> str:
    """``h****@example.com``: enough to recognise one's address, not to read someone else's."""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)}@{domain}"


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    user = user_for_unsubscribe_token(token)
    if user is None:
        return render(request, "reminders/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        enabled = request.POST.get("action") == "resubscribe"
        preferences = services.set_reminders(user=user, enabled=enabled)
        done = True
    else:
        preferences = selectors.customer_preferences(user=user)
        done = False
    return render(
        request,
        "reminders/unsubscribe.html",
        {
            "token": token,
            "email": _masked(user.email),
            "opted_out": preferences.reminders_opt_out,
            "done": done,
        },
    )
