"""A bounded fuzz of the whole site: no input may give a 500 (DESIGN 9).

Every URL pattern (the shop's pages in both languages, the admin, the webhook) is requested with
values taken from real rows and from a list of troublemakers (NUL, invalid UTF-8 once decoded,
huge numbers, very long strings, look-alike characters, markup), with random query strings and
random form posts (urlencoded, multipart, other charsets), as a visitor, a customer, support
staff and an operator; the webhook gets correctly signed bodies mutated into every shape. The
seed is fixed, so a failure is reproduced by running the test again. Runs on whatever database
the suite uses (SQLite by default, PostgreSQL in CI), where the causes differ.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import time
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RegexPattern
from django.utils import timezone

from licenses.services import ensure_staff_groups
from orders.receipts.services import request_receipt
from tests.factories import (
    ActivationCodeFactory,
    DeviceFactory,
    LicenseFactory,
    OrderFactory,
    PaymentFactory,
    PriceFactory,
    RenewalPathFactory,
    UserFactory,
)
from tests.helpers.receipts import support_agent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]

SEED = 20261201
PAGE_REQUESTS = 3000
WEBHOOK_REQUESTS = 400

TROUBLE = [
    "", " ", "0", "-1", "1.5", "1e9", str(2**31), str(2**63), str(2**64), "9" * 60, "NaN",
    "null", "true", "[]", "{}", "a" * 3000, "%00", "%E4%E4", "%FF", "%C0%AF", "..%2F..%2F",
    "../../etc/passwd", "'; DROP TABLE x; --", "<script>alert(1)</script>", "😀" * 20,
    "\u202egnp.exe", "Ｒ２６１２０１", "ＭＡＭＯ－１２３４", "MAMO-0000-0000-0000",
    "R261201-7K3Q9X2M", "00000-00000-00000-00000", "한국어", "عربي", "𠮷野家", "\t\n",
    "x@example.com", "javascript:alert(1)", "//evil.example/", "https://evil.example/",
    "/orders/", "2030-02-30", "2030-01-01", "99999-99-99", "on", "yes", "issue_selected",
    "delete_selected", "refund", "reprocess", "correct_expiry", "a\x00b",
]  # fmt: skip
FIELDS = [
    "path", "term", "email", "card_token", "agree", "addressee", "proviso", "next", "serial",
    "activation_code", "username", "password", "password1", "password2", "first_name",
    "last_name", "enabled", "language", "usage", "action", "_selected_action", "select_across",
    "index", "apply", "post", "reason", "note", "new_expires_on", "order", "new_password1",
    "new_password2", "old_password", "q", "o", "p", "e", "access", "status", "_save",
    "_continue", "csrfmiddlewaretoken", "code", "kind", "amount", "product", "expires_on",
]  # fmt: skip


@pytest.fixture
def world():
    """Real rows for the fuzz to aim at: accounts of every kind, licenses, orders, receipts."""
    ensure_staff_groups()
    customer = UserFactory(email="hanako@example.com")
    operator = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    license = LicenseFactory(owner=customer)
    DeviceFactory(license=license)
    ActivationCodeFactory(product=license.product)
    PriceFactory(product=license.product)
    RenewalPathFactory(from_product=license.product, to_product=license.product, kind="same")
    orders = [
        OrderFactory(customer=customer, license=license, status=status, paid_at=timezone.now())
        for status in ["draft", "details_entered", "requires_action", "paid", "fulfilled"]
    ]
    guest = OrderFactory(customer=None, email="guest@example.com", status="fulfilled",
                         paid_at=timezone.now())  # fmt: skip
    for order in orders[1:]:
        PaymentFactory(order=order, status="succeeded" if order.is_paid else "card_added")
    request_receipt(order=orders[-1], customer=customer, addressee="山田 花子", proviso="更新代")
    clients = {
        "visitor": Client(raise_request_exception=False),
        "csrf": Client(raise_request_exception=False, enforce_csrf_checks=True),
    }
    users = {"customer": customer, "support": support_agent(), "operator": operator}
    for name in users:
        clients[name] = Client(raise_request_exception=False)
    return {
        "clients": clients,
        "users": users,
        "numbers": [o.number for o in [*orders, guest]],
        "serials": [license.serial],
        "pks": [license.pk, orders[0].pk, customer.pk],
    }


def url_patterns() -> list[str]:
    """Every route, the i18n ones in both languages."""
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                prefixes = (
                    ["", "en/"]
                    if isinstance(pattern.pattern, LocalePrefixPattern)
                    else [str(pattern.pattern)]
                )
                for extra in prefixes:
                    walk(pattern.url_patterns, prefix + extra)
            elif isinstance(pattern.pattern, RegexPattern):
                routes.append("re:" + prefix + str(pattern.pattern).strip("^$"))
            else:
                routes.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


def value(rng: random.Random, world, name: str) -> str:
    real = {
        "number": world["numbers"],
        "serial": world["serials"],
        "object_id": [str(pk) for pk in world["pks"]],
        "id": [str(pk) for pk in world["pks"]],
        "content_type_id": ["1", "7"],
    }.get(name)
    if real and rng.random() < 0.5:
        return rng.choice(real)
    return rng.choice(TROUBLE)


def concrete(rng: random.Random, world, route: str) -> str:
    """The route with every parameter filled, percent-encoded (or raw, now and then)."""

    def fill(name: str) -> str:
        text = value(rng, world, name)
        return text if rng.random() < 0.2 else quote(text, safe="")

    if route.startswith("re:"):  # admin's app index and catch-all: ^(?P<app_label>a|b)/$
        path = re.sub(
            r"\(\?P<(\w+)>([^)]*)\)",
            lambda m: rng.choice(m.group(2).split("|")) if "|" in m.group(2) else fill(m.group(1)),
            route[3:].replace("^", "").replace("$", ""),
        )
    else:
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: fill(m.group(1)), route)
    return "/" + path


def random_form(rng: random.Random, world) -> dict[str, str | list[str]]:
    form = {}
    for name in rng.sample(FIELDS, rng.randint(0, 8)):
        form[name] = (
            [value(rng, world, "object_id") for _ in range(rng.randint(0, 3))]
            if name == "_selected_action"
            else value(rng, world, name)
        )
    return form


def request_page(rng: random.Random, world, client: Client, path: str):
    if rng.random() < 0.3:
        path += "?" + urlencode(random_form(rng, world), doseq=True)
    elif rng.random() < 0.1:
        path += "?" + rng.choice(["%00", "a=%FF", "&&==", "q=" + "x" * 5000, "serial=%E4"])
    kind = rng.random()
    if kind < 0.45:
        return client.get(path)
    if kind < 0.75:
        return client.post(path, random_form(rng, world))
    if kind < 0.9:
        body = urlencode(random_form(rng, world), doseq=True).encode()
        return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded")
    charset = rng.choice(["latin-1", "shift_jis", "utf-16", "x-unknown", "UTF-8"])
    return client.generic(
        "POST",
        path,
        rng.choice([b"a=%E4&b=1", b"\xff\xfe\x00a", b"serial=MAMO", b"x" * 100]),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )


def signed_in(world, who: str) -> Client:
    """The identity's client, signed in again if a fuzzed request signed it out."""
    client = world["clients"][who]
    user = world["users"].get(who)
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if user is not None and not (cookie and cookie.value):
        client.force_login(user)
    return client


def test_no_url_pattern_or_form_answers_500(world):
    rng = random.Random(SEED)
    routes = [route for route in url_patterns() if route != "stripe/webhook/"]
    # The admin has most of the routes; the shop's pages get as many requests.
    admin = [route for route in routes if "admin/" in route]
    shop = [route for route in routes if route not in admin]
    failures = []
    started = time.monotonic()
    for _n in range(PAGE_REQUESTS):
        who = rng.choice(list(world["clients"]))
        path = concrete(rng, world, rng.choice(rng.choice([admin, shop])))
        response = request_page(rng, world, signed_in(world, who), path)
        if response.status_code >= 500:
            failures.append((who, response.request["REQUEST_METHOD"], path[:200]))
    assert not failures, f"{len(failures)} answers of 500, e.g. {failures[:10]}"
    assert time.monotonic() - started < 120  # bounded


# --- The webhook: correctly signed bodies of every shape --------------------------------------


def valid_event(rng: random.Random, world) -> dict:
    return {
        "id": f"evt_fuzz_{rng.randrange(10**9)}",
        "object": "event",
        "type": rng.choice(
            [
                "payment_intent.succeeded",
                "payment_intent.payment_failed",
                "charge.refunded",
                "customer.created",
            ]
        ),
        "data": {
            "object": {
                "id": rng.choice(["pi_unknown", "pi_fuzz", "ch_1"]),
                "object": "payment_intent",
                "amount": 4790,
                "currency": "jpy",
                "payment_intent": "pi_fuzz",
                "payment_method": "pm_1",
                "metadata": {"order": rng.choice(world["numbers"])},
            }
        },
    }


JUNK_VALUES = [None, True, 0, -1, 2**70, 1.5, "", "x" * 5000, "\x00", "😀", [], {}, [1, [2, [3]]],
               {"a": {"b": {"c": None}}}, "NaN"]  # fmt: skip


def mutate(rng: random.Random, node):
    """Replace one random place of ``node`` (in place where possible) by junk."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        if rng.random() < 0.5:
            node[key] = mutate(rng, node[key])
        else:
            node[key] = rng.choice(JUNK_VALUES)
        return node
    if isinstance(node, list) and node and rng.random() < 0.8:
        index = rng.randrange(len(node))
        node[index] = mutate(rng, node[index])
        return node
    return rng.choice(JUNK_VALUES)


def signed(body: bytes, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    secret = settings.STRIPE_WEBHOOK_SECRET.encode()
    digest = hmac.new(secret, b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_body(rng: random.Random, world) -> bytes:
    event = valid_event(rng, world)
    for _ in range(rng.randint(0, 3)):
        event = mutate(rng, event)
    body = json.dumps(event).encode()
    twist = rng.random()
    if twist < 0.05:
        body = body.replace(b"4790", b"NaN")
    elif twist < 0.1:
        body = b'{"id": "evt_deep", "type": "x.y", "data": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    elif twist < 0.15:
        body = body[: rng.randrange(len(body) + 1)]
    elif twist < 0.2:
        body = body.replace(b'"jpy"', b'"\xff\xfe"')
    return body


def test_webhook_answers_no_500_to_signed_malformed_bodies(world):
    rng = random.Random(SEED + 1)
    client = world["clients"]["visitor"]
    failures = []
    for _n in range(WEBHOOK_REQUESTS):
        body = webhook_body(rng, world)
        header = rng.choice(
            [signed(body)] * 8
            + [signed(body, at=0), "t=1,v1=ääää", "", "t=,v1=", "v1=" + "0" * 64, "t=x" * 500]
        )
        response = client.post(
            "/stripe/webhook/", body, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )  # fmt: skip
        if response.status_code >= 500:
            failures.append((body[:120], header[:40], response.status_code))
    assert not failures, f"{len(failures)} answers of 500, e.g. {failures[:5]}"
