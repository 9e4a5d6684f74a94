"""Slowing down guessing without locking out the owner (sign-in, activation codes K4, sign-up and
password-reset mails; DESIGN 9).

Sign-in failures count per pair of account and client address (``LOGIN_PER_PAIR``): someone
guessing a password from their own addresses slows only those pairs down, with delays that grow
with every further failure, while the owner signing in from their address is not held up. A
per-address count (``LOGIN_PER_ADDRESS``) slows one address that tries many accounts. A successful
sign-in clears its pair; a password reset clears every pair of the account (``forget_account``).

Activation codes, sign-ups and password-reset requests count attempts in a fixed window
(``Throttle``). Counters live in Django's default cache: set ``CACHE_URL`` to Redis when several
web processes run (``check --deploy`` warns otherwise, ``shop.W001``).

The client address is ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT`` proxies stand in front of the
site: then it is the address the outermost of them saw, read from ``TRUSTED_PROXY_HEADER``.
IPv6 addresses count per /64 network, the block one subscriber usually gets.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def _digest(ident: str) -> str:
    return hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` counted attempts per key within ``window`` seconds."""

    scope: str
    limit: Callable[[], int]
    window: Callable[[], int] = lambda: int(settings.LOGIN_THROTTLE_WINDOW.total_seconds())

    def _key(self, ident: str) -> str:
        return f"throttle:{self.scope}:{_digest(address_bucket(ident))}"

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


@dataclass(frozen=True)
class Backoff:
    """Failures per key: ``free`` of them cost nothing; each one after that makes the next
    attempt wait, twice as long as the last (``LOGIN_THROTTLE_FIRST_DELAY_SECONDS``, doubling,
    at most ``LOGIN_THROTTLE_MINUTES``). A key is forgotten after that long without failures."""

    scope: str
    free: Callable[[], int]

    def _key(self, ident: str) -> str:
        return f"backoff:{self.scope}:{ident}"

    def wait_seconds(self, ident: str, *, now: float | None = None) -> int:
        """Seconds until ``ident`` may try again; 0 when it may try now."""
        state = cache.get(self._key(ident))
        if not state:
            return 0
        return max(0, math.ceil(state["until"] - (now or time.time())))

    def fail(self, ident: str, *, now: float | None = None) -> None:
        now = now or time.time()
        key = self._key(ident)
        failures = (cache.get(key) or {"failures": 0})["failures"] + 1
        over = failures - self.free()
        delay = 0 if over < 0 else min(_first_delay() * 2**over, _longest_delay())
        cache.set(
            key,
            {"failures": failures, "until": now + delay},
            timeout=int(delay + _longest_delay()),
        )

    def reset(self, ident: str) -> None:
        cache.delete(self._key(ident))


def _first_delay() -> int:
    return settings.LOGIN_THROTTLE_FIRST_DELAY_SECONDS


def _longest_delay() -> int:
    return int(settings.LOGIN_THROTTLE_WINDOW.total_seconds())


LOGIN_PER_PAIR = Backoff("login-pair", lambda: settings.LOGIN_THROTTLE_PER_PAIR)
LOGIN_PER_ADDRESS = Backoff("login-address", lambda: settings.LOGIN_THROTTLE_PER_ADDRESS)
CODE_PER_ACCOUNT = Throttle("code-account", lambda: settings.CODE_THROTTLE_PER_ACCOUNT)
CODE_PER_ADDRESS = Throttle("code-address", lambda: settings.CODE_THROTTLE_PER_ADDRESS)


def _mail_window() -> int:
    return int(settings.ACCOUNT_MAIL_THROTTLE_WINDOW.total_seconds())


# Sign-ups and password-reset requests make the shop send mail: limited per address typed and
# per client address, counted whether or not an account exists (the answer must not tell).
SIGNUP_PER_EMAIL = Throttle(
    "signup-email", lambda: settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL, _mail_window
)
SIGNUP_PER_ADDRESS = Throttle(
    "signup-address", lambda: settings.ACCOUNT_MAIL_THROTTLE_PER_ADDRESS, _mail_window
)
RESET_PER_EMAIL = Throttle(
    "reset-email", lambda: settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL, _mail_window
)
RESET_PER_ADDRESS = Throttle(
    "reset-address", lambda: settings.ACCOUNT_MAIL_THROTTLE_PER_ADDRESS, _mail_window
)


# --- Sign-in ------------------------------------------------------------------------------------


def _account_generation(email: str) -> int:
    return cache.get(f"backoff:login-generation:{_digest(email)}") or 0


def _pair(email: str, address: str) -> str:
    """The pair's key; a password reset moves the account to a new generation of pairs."""
    return f"{_digest(email)}:{_account_generation(email)}:{_digest(address_bucket(address))}"


def login_wait_seconds(*, email: str, address: str) -> int:
    """How long this account and address must wait before the next sign-in attempt."""
    waits = [LOGIN_PER_PAIR.wait_seconds(_pair(email, address))]
    if address:
        waits.append(LOGIN_PER_ADDRESS.wait_seconds(_digest(address_bucket(address))))
    return max(waits)


def login_failed(*, email: str, address: str) -> None:
    LOGIN_PER_PAIR.fail(_pair(email, address))
    if address:
        LOGIN_PER_ADDRESS.fail(_digest(address_bucket(address)))


def login_succeeded(*, email: str, address: str) -> None:
    LOGIN_PER_PAIR.reset(_pair(email, address))


def forget_account(*, email: str) -> None:
    """A new password was set by reset: every pair of the account starts again from nothing."""
    key = f"backoff:login-generation:{_digest(email)}"
    cache.set(key, _account_generation(email) + 1, timeout=None)


def minutes(seconds: int) -> int:
    """Whole minutes to tell a visitor, at least one."""
    return max(1, math.ceil(seconds / 60))


# --- The client address -------------------------------------------------------------------------


def client_address(request) -> str:
    """The visitor's IP address, as the trusted proxies in front of the site saw it.

    With ``TRUSTED_PROXY_COUNT = n`` (default 0), each of the n proxies appends the address it
    received the request from to ``TRUSTED_PROXY_HEADER``, so the n-th entry from the right is
    the client's; anything to its left was sent by the client and is not trusted. A header that
    is missing, too short or not an IP address falls back to ``REMOTE_ADDR``.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    meta_name = "HTTP_" + settings.TRUSTED_PROXY_HEADER.upper().replace("-", "_")
    entries = [entry.strip() for entry in request.META.get(meta_name, "").split(",")]
    entries = [entry for entry in entries if entry]
    if len(entries) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-hops]))
    except ValueError:
        return remote


def address_bucket(address: str) -> str:
    """What an address counts as: itself (IPv4), or its /64 network (IPv6)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
