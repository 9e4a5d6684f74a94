"""What stripe.js, Stripe's dashboard and Stripe's webhook sender do, done from Python: for the
tests, the benchmarks and anyone poking at ``make run``'s localstripe. Not used by the shop itself,
and never through the gateway (these are the browser's and the operator's requests, not ours).

- ``confirm_card_setup``: what ``stripe.confirmCardSetup(clientSecret, {payment_method: {card}})``
  of localstripe's stripe.js sends once a card number is typed, including its 3-D Secure box;
- ``authenticate_3d_secure``: the "Complete/Fail authentication" box of ``confirmCardPayment``;
- ``refund_in_dashboard``, ``find_dispute``, ``accept_dispute``: an operator at Stripe's dashboard;
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
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

from django.conf import settings


class SetupDeclined(Exception):
    """The card was refused while it was set up (what stripe.js reports as ``result.error``)."""

    def __init__(self, error: dict) -> None:
        super().__init__(error.get("message") or "declined")
        self.code = error.get("code") or ""


def confirm_card_setup(client_secret: str, number: str, *, authenticate: bool = True) -> dict:
    """Confirm a SetupIntent with a test card number as localstripe's stripe.js does.

    ``POST /v1/setup_intents/{id}/confirm`` with the publishable key and ``payment_method_data``;
    when the bank asks for 3-D Secure (``requires_action``), the box's "Complete authentication"
    confirms again and "Fail authentication" (``authenticate=False``) cancels. Returns the
    SetupIntent (its ``payment_method`` is the new ``pm_…``); raises ``SetupDeclined``.
    """
    setup_id = re.match(r"^(seti_\w+)_secret_", client_secret).group(1)
    auth = {"key": settings.STRIPE_PUBLISHABLE_KEY, "use_stripe_sdk": True}
    card = {
        "number": number,
        "exp_month": "12",
        "exp_year": str(date.today().year + 3),
        "cvc": "123",
    }
    setup = _post_json(
        f"/v1/setup_intents/{setup_id}/confirm",
        {
            **auth,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": card,
                "billing_details": {"address": {"postal_code": "1000001"}},
            },
        },
    )
    if setup["status"] == "requires_action":
        action = "confirm" if authenticate else "cancel"
        setup = _post_json(
            f"/v1/setup_intents/{setup_id}/{action}", {**auth, "client_secret": client_secret}
        )
    if setup["status"] != "succeeded":
        raise SetupDeclined({"code": "setup_intent_authentication_failure"})
    return setup


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


def refund_in_dashboard(payment_intent_id: str, *, amount: int | None = None) -> dict:
    """An operator refunds (part of) a payment in Stripe's dashboard, not through the shop."""
    form = {"payment_intent": payment_intent_id}
    if amount is not None:
        form["amount"] = str(amount)
    return _secret_request("POST", "/v1/refunds", form)


def find_dispute(payment_intent_id: str) -> dict:
    """The dispute Stripe opened for a payment (test card 4000000000000259)."""
    query = urllib.parse.urlencode({"payment_intent": payment_intent_id})
    disputes = _secret_request("GET", f"/v1/disputes?{query}")["data"]
    if not disputes:
        raise LookupError(f"no dispute for {payment_intent_id}")
    return disputes[0]


def accept_dispute(dispute_id: str) -> dict:
    """The operator accepts a dispute in Stripe's dashboard: it closes as lost."""
    return _secret_request("POST", f"/v1/disputes/{dispute_id}/close", {})


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
    return _send(request)


def _secret_request(method: str, path: str, form: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{settings.STRIPE_API_BASE}{path}",
        data=urllib.parse.urlencode(form).encode() if form is not None else None,
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        method=method,
    )
    return _send(request)


def _send(request: urllib.request.Request) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            content = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 402:
            raise SetupDeclined(json.loads(error.read() or b"{}").get("error") or {}) from error
        raise
    return json.loads(content) if content else {}
