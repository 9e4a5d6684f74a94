"""Counting failed attempts in the cache (sign-in, activation codes: K4, DESIGN 9).

Each throttle counts failures per key (an account's email, a client address) within a window;
once a key reaches its limit, further attempts are refused until the window ends. The cache is
Django's default cache: set ``CACHE_URL`` to Redis when several web processes run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    scope: str
    limit: Callable[[], int]
    window: Callable[[], int] = lambda: int(settings.LOGIN_THROTTLE_WINDOW.total_seconds())

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{digest}"

    def blocked(self, ident: str | None) -> bool:
        return bool(ident) and (cache.get(self._key(ident)) or 0) >= self.limit()

    def hit(self, ident: str | None) -> None:
        if not ident:
            return
        key = self._key(ident)
        cache.add(key, 0, timeout=self.window())
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window())

    def reset(self, ident: str | None) -> None:
        if ident:
            cache.delete(self._key(ident))


LOGIN_PER_ACCOUNT = Throttle("login-account", lambda: settings.LOGIN_THROTTLE_PER_ACCOUNT)
LOGIN_PER_ADDRESS = Throttle("login-address", lambda: settings.LOGIN_THROTTLE_PER_ADDRESS)
CODE_PER_ACCOUNT = Throttle("code-account", lambda: settings.CODE_THROTTLE_PER_ACCOUNT)
CODE_PER_ADDRESS = Throttle("code-address", lambda: settings.CODE_THROTTLE_PER_ADDRESS)


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""
