"""The shop's URLs plus ``/bench/bare/``, the yardstick the benchmarks compare pages with.

The shop's list is spliced in rather than ``include``d: Django refuses ``i18n_patterns`` in an
included URLconf.
"""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as shop_urlpatterns


@csrf_exempt  # the webhook benchmark POSTs the same bodies to it
def bare(request):
    """Django's request/response cycle through the shop's middleware, and no work."""
    return HttpResponse("ok")


urlpatterns = [path("bench/bare/", bare), *shop_urlpatterns]
