"""The shop's URLs plus the yardsticks the benchmarks compare pages with.

``/bench/bare/`` answers "ok" through the shop's middleware and does nothing; the floors of
DESIGN 10 (``bench/floors.py``) do the least work each kind of endpoint must do:
``/bench/floor/page/`` renders ``base.html`` for a signed-in customer, ``/bench/floor/write/``
stores the request body as one row.

The shop's list is spliced in rather than ``include``d: Django refuses ``i18n_patterns`` in an
included URLconf.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as shop_urlpatterns

from . import floors


@csrf_exempt  # the webhook benchmark POSTs the same bodies to it
def bare(request):
    """Django's request/response cycle through the shop's middleware, and no work."""
    return HttpResponse("ok")


@login_required
def floor_page(request):
    """Floor page: ``base.html`` for a signed-in customer, no query beyond session and user."""
    return render(request, "base.html")


@csrf_exempt
@require_POST
def floor_write(request):
    """Floor write: insert the body as one row and commit."""
    floors.write(request.body.decode("utf-8", "replace"))
    return HttpResponse("ok")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/floor/page/", floor_page),
    path("bench/floor/write/", floor_write),
    *shop_urlpatterns,
]
