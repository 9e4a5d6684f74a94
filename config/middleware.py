"""Requests no page of the shop can mean, answered 400 before any view or database sees them.

- A NUL byte in the path, the query string or a form field: PostgreSQL cannot store or compare
  text containing NUL (``DataError``), so ``/orders/R%00/`` would be a 500 instead of a 404.
- A form body (``application/x-www-form-urlencoded``) in a charset other than UTF-8: Django
  refuses to decode it (``BadRequest``, or ``LookupError`` for an unknown charset), and with
  ``DEBUG`` on its error page then fails reading the same body again.
- An admin action whose selected ids are not row ids (integers within a 64-bit primary key):
  Django's admin filters by them as they are and fails on ``abc`` or ``2**63``. Every model of
  the shop (and Django's users and groups) has an integer primary key.

Only form bodies (urlencoded or multipart) are read here, as the CSRF check reads them next
anyway; other bodies, such as Stripe's JSON webhook, are left to their views.
"""

from __future__ import annotations

import re

from django.contrib.admin import helpers
from django.core.exceptions import BadRequest
from django.http import HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.urls import NoReverseMatch, reverse

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_UTF8 = {"utf-8", "utf8"}
_ROW_ID = re.compile(r"[0-9]{1,19}")
_MAX_ROW_ID = 2**63 - 1


class RefuseMalformedRequests:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem:
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    def _problem(self, request) -> str:
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            return "NUL bytes are not allowed in a URL."
        if _has_nul(request.GET):
            return "NUL bytes are not allowed in a URL."
        if request.method != "POST" or request.content_type not in (_FORM, _MULTIPART):
            return ""
        charset = request.content_params.get("charset", "utf-8").strip().lower()
        if charset not in _UTF8:
            return "Forms must be sent in UTF-8."
        try:
            form = request.POST
        except (BadRequest, MultiPartParserError, UnicodeDecodeError):
            return "The form could not be read."
        if _has_nul(form):
            return "NUL bytes are not allowed in a form."
        if helpers.ACTION_CHECKBOX_NAME in form and request.path_info.startswith(_admin_prefix()):
            selected = form.getlist(helpers.ACTION_CHECKBOX_NAME)
            if not all(_ROW_ID.fullmatch(pk) and int(pk) <= _MAX_ROW_ID for pk in selected):
                return "The selected rows are not row ids."
        return ""


def _has_nul(query) -> bool:
    return any("\x00" in key or "\x00" in "".join(values) for key, values in query.lists())


def _admin_prefix() -> str:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return "/admin/"
