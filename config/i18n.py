"""The language switch: the same page in the other language (Japanese at /, English at /en/).

Django's ``set_language`` translates ``next`` by resolving it in the *current* language, which
fails for ``/en/...`` once the cookie says Japanese (and the other way round); our URLs follow
one simple rule, so the prefix is swapped directly.

``language_switched`` is sent after a visitor picked a language (``request``, ``language``): the
licenses app remembers it as the signed-in customer's language for mails.
"""

from django.conf import settings
from django.dispatch import Signal
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

language_switched = Signal()


def _strip_language_prefix(path: str) -> str:
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if code != settings.LANGUAGE_CODE and path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


def localized_path(path: str, language: str) -> str:
    bare = _strip_language_prefix(path)
    return bare if language == settings.LANGUAGE_CODE else f"/{language}{bare}"


@require_POST
def switch_language(request):
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest("Unknown language.")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not next_url.startswith("/"):
        next_url = "/"
    target = localized_path(next_url, language)
    if target.startswith("//") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = localized_path("/", language)
    language_switched.send(sender=switch_language, request=request, language=language)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response
