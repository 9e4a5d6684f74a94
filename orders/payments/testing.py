"""What stripe.js and Stripe's webhook sender do, done from Python: for the tests, the benchmarks
and anyone poking at ``make run``'s localstripe. Not used by the shop itself.

- ``card_token``: a ``tok_…`` for a test card number, as ``stripe.createToken`` makes it;
- ``authenticate_3d_secure``: the "Complete/Fail authentication" box of localstripe's stripe.js;
- ``register_webhook``: where localstripe posts its events (its ``/_config`` API);
- ``event`` and ``sign_event``: a Stripe event and its ``Stripe-Signature`` header, signed the way
  Stripe signs (HMAC-SHA256 of ``"{t}.{body}"`` with the endpoint's secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
import urllib.request
from datetime import date

from django.conf import settings


def card_token(number: str) -> str:
    """A ``tok_...`` for a test card number, created as stripe.js does (publishable key)."""
    form = {
        "card[number]": number,
        "card[exp_month]": "12",
        "card[exp_year]": str(date.today().year + 3),
        "card[cvc]": "123",
        "key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}/v1/tokens",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["id"]


def authenticate_3d_secure(client_secret: str, *, success: bool) -> dict:
    """Complete (or fail) the 3-D Secure challenge of a ``requires_action`` PaymentIntent.

    Exactly what localstripe-v3.js's ``confirmCardPayment`` sends once a button of its box is
    clicked: ``POST /v1/payment_intents/{id}/_authenticate?success=true|false`` with the
    publishable key and the client secret as JSON. Returns the PaymentIntent as JSON.
    """
    payment_intent_id = re.match(r"^(pi_\w+)_secret_", client_secret).group(1)
    flag = "true" if success else "false"
    return _post_json(
        f"/v1/payment_intents/{payment_intent_id}/_authenticate?success={flag}",
        {"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": client_secret},
    )


def register_webhook(
    url: str,
    *,
    webhook_id: str = "tests",
    secret: str | None = None,
    events: list[str] | None = None,
) -> None:
    """Register (or replace) a webhook endpoint through localstripe's ``/_config`` API."""
    body = {"url": url, "secret": secret or settings.STRIPE_WEBHOOK_SECRET}
    if events is not None:
        body["events"] = events
    _post_json(f"/_config/webhooks/{webhook_id}", body)


def event(event_id: str, type_: str, obj: dict) -> dict:
    """A Stripe event of ``type_`` about ``obj``."""
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": obj}}


def sign_event(
    payload: dict, *, secret: str | None = None, at: int | None = None
) -> tuple[bytes, str]:
    """The body and its ``Stripe-Signature`` header, signed at ``at`` (default: now)."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if at is None else at
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def _post_json(path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        content = response.read()
    return json.loads(content) if content else {}
