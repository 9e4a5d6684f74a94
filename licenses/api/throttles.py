"""Requests per device token and per client address (DRF throttles, counted in the cache).

Rates come from ``settings.API_THROTTLE_RATES`` when a throttle is made, so they follow the
settings (and tests can change them). Failed activation codes are limited as well, more tightly,
by the shop's code throttles (K4, ``licenses.throttle``).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from licenses import throttle
from licenses.models import Device


class _RateFromSettings(SimpleRateThrottle):
    cache_format = "api-throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]


class PerTokenThrottle(_RateFromSettings):
    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, Device):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class PerAddressThrottle(_RateFromSettings):
    scope = "address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": throttle.client_address(request)}
