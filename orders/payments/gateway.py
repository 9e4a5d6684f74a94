"""The one module that talks to Stripe (DESIGN §5).

Everything else sees domain dataclasses and the exceptions below, never a ``stripe`` object.
The client is built from settings at call time, so localstripe (tests, ``make run``) and
api.stripe.com differ only by ``STRIPE_API_BASE`` and the keys.

Behaviour callers rely on:

- A card refused when it is added raises ``CardDeclined``.
- A card refused when it is charged does *not* raise: ``create_and_confirm_payment_intent``
  returns the PaymentIntent in ``requires_payment_method`` with ``failure_code`` and
  ``failure_message``, like a failed 3-D Secure authentication read back with
  ``retrieve_payment_intent``. The order keeps the PaymentIntent id either way.
- Stripe unreachable, timing out or answering 5xx/429 raises ``GatewayUnavailable``; any other
  Stripe error raises ``PaymentError``. Their ``message`` can be shown to the customer.
"""

import json
import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings

from .failures import FAILED, UNAVAILABLE, failure_message

logger = logging.getLogger(__name__)

CURRENCY = "jpy"  # zero-decimal: amount=5980 is ¥5,980
TIMEOUT_SECONDS = 10
# Retries reuse the request's Idempotency-Key on real Stripe. localstripe ignores that header,
# so a retried POST there could act twice; acceptable for development only.
MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe's events nest a few levels (event → data → object → charges → card); far deeper is not
# Stripe, and would exhaust the stack of whatever walks it next.
MAX_EVENT_DEPTH = 64
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


class PaymentError(Exception):
    """A payment step failed; ``message`` is customer-facing, in the active language."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class CardDeclined(PaymentError):
    """The card was refused; ``code`` is Stripe's decline code (or error code)."""


class GatewayUnavailable(PaymentError):
    """Stripe could not be reached or failed on its side; trying again later may work."""


class InvalidWebhook(Exception):
    """A webhook request whose signature, timestamp or body cannot be trusted."""


@dataclass(frozen=True)
class CardInfo:
    card_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class IntentState:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str = field(repr=False)
    customer_id: str | None
    payment_method: str | None
    order_number: str | None
    charge_id: str | None
    failure_code: str | None
    failure_message: str | None
    requires_action: bool
    amount_refunded: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def refunded(self) -> bool:
        """Wholly refunded (DESIGN 6: a refund reverses the extension)."""
        return self.succeeded and self.amount_refunded >= self.amount


@dataclass(frozen=True)
class RefundState:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent_id: str | None
    charge_id: str | None


def ensure_customer(*, email: str, customer_id: str | None = None) -> str:
    """Return ``customer_id`` if Stripe still has that customer, else a new customer's id."""
    client = _client()
    with _stripe_errors():
        if customer_id:
            try:
                customer = client.v1.customers.retrieve(customer_id).to_dict()
            except stripe.InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise
            else:
                if not customer.get("deleted"):
                    return customer["id"]
        return client.v1.customers.create({"email": email}).id


def add_card(*, customer_id: str, token: str) -> CardInfo:
    """Attach a stripe.js token to the customer as a card source.

    The issuer can refuse the card already here (localstripe: 4000000000000002 answers 402
    ``card_declined``), which raises ``CardDeclined``.
    """
    with _stripe_errors():
        card = _client().v1.customers.payment_sources.create(customer_id, {"source": token})
    card = card.to_dict()
    return CardInfo(
        card_id=card["id"],
        brand=card["brand"],
        last4=card["last4"],
        exp_month=int(card["exp_month"]),
        exp_year=int(card["exp_year"]),
    )


def create_and_confirm_payment_intent(
    *, amount: int, customer_id: str, payment_method: str, order_number: str, idempotency_key: str
) -> IntentState:
    """Create and confirm a card PaymentIntent in one call.

    Only these parameters are sent: localstripe answers 400 to any it does not know
    (``return_url``, ``description``, ``receipt_email``...). Without ``return_url`` real Stripe
    returns ``requires_action`` with a ``use_stripe_sdk`` next action for 3-D Secure, which
    stripe.js completes in the page.

    A decline at charge arrives as a 402 error, not as a PaymentIntent; the PaymentIntent exists
    all the same and is returned (``requires_payment_method`` with the failure).
    """
    client = _client()
    params = {
        "amount": amount,
        "currency": CURRENCY,
        "customer": customer_id,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "confirm": True,
        "metadata": {"order": order_number},
    }
    with _stripe_errors():
        try:
            intent = client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}
            ).to_dict()
        except stripe.CardError as exc:
            intent = _intent_of_declined_charge(client, exc)
    state = _intent_state(intent)
    logger.info("PaymentIntent %s for order %s: %s", state.id, order_number, state.status)
    return state


def retrieve_payment_intent(*, payment_intent_id: str) -> IntentState:
    """The PaymentIntent with its latest charge expanded, so refunds can be read from it."""
    with _stripe_errors():
        intent = (
            _client()
            .v1.payment_intents.retrieve(payment_intent_id, {"expand": ["latest_charge"]})
            .to_dict()
        )
    return _intent_state(intent)


def cancel_payment_intent(*, payment_intent_id: str) -> IntentState:
    """Cancel a PaymentIntent the customer gave up on (3-D Secure never finished), so that it
    cannot succeed later beside the card they use instead."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.cancel(payment_intent_id).to_dict()
    return _intent_state(intent)


def refund_payment(*, payment_intent_id: str, idempotency_key: str) -> RefundState:
    """Refund the whole charge of a PaymentIntent.

    localstripe ignores the Idempotency-Key and refunds again on every call (even past the
    amount): the caller must make sure a payment is refunded once.
    """
    with _stripe_errors():
        refund = (
            _client()
            .v1.refunds.create(
                {"payment_intent": payment_intent_id}, {"idempotency_key": idempotency_key}
            )
            .to_dict()
        )
    return RefundState(
        id=refund["id"],
        status=refund["status"],
        amount=refund["amount"],
        currency=refund["currency"],
        payment_intent_id=_id(refund.get("payment_intent")),
        charge_id=_id(refund.get("charge")),
    )


def parse_webhook(*, payload: bytes, signature_header: str) -> dict:
    """Verify a webhook's ``Stripe-Signature`` over the raw body and return the event.

    The signature covers ``"{t}.{body}"`` with STRIPE_WEBHOOK_SECRET; an event signed more than
    five minutes ago is refused (replay). localstripe signs with the event's creation time and
    posts about a second later.
    """
    if not signature_header.isascii():
        raise InvalidWebhook("The Stripe-Signature header is not ASCII.")
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature_header,
            settings.STRIPE_WEBHOOK_SECRET,
            WEBHOOK_TOLERANCE_SECONDS,
        )
        event = json.loads(payload, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (
        stripe.SignatureVerificationError,
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise InvalidWebhook(str(exc)) from exc
    problem = event_problem(event)
    if problem:
        raise InvalidWebhook(problem)
    return event


def event_problem(event: Any) -> str:
    """Why a signed body cannot be a Stripe event we could ever process, or ``""``.

    Refused here, before it is stored, with a 400: such an event would fail the same way on
    every retry. The database could not even store some of it (PostgreSQL's jsonb refuses NUL
    and NaN).
    """
    if not isinstance(event, dict):
        return "The payload is not a Stripe event."
    if not isinstance(event.get("id"), str) or not 0 < len(event["id"]) <= 100:
        return "The event id is not a short string."
    if not isinstance(event.get("type"), str) or not _EVENT_TYPE.fullmatch(event["type"]):
        return "The event type is not a Stripe event type."
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object", {}), dict):
        return "The event's data is not an object."
    obj = data.get("object", {})
    for name in ("id", "payment_intent", "payment_method"):
        if not isinstance(obj.get(name), str | None):
            return f"The event's object has a malformed {name}."
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict | None) or not all(
        isinstance(value, str) for value in (metadata or {}).values()
    ):
        return "The event's object has malformed metadata."  # Stripe's values are strings
    return _structure_problem(event)


def _structure_problem(value: Any) -> str:
    """NUL characters anywhere, or nesting deeper than ``MAX_EVENT_DEPTH`` (walked iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_EVENT_DEPTH:
            return "The event nests too deeply."
        if isinstance(item, dict):
            if any("\x00" in key for key in item):
                return "The event contains a NUL character."
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            return "The event contains a NUL character."
    return ""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON.")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range.")
    return number


def _client() -> stripe.StripeClient:
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    """One client per configuration, so tests can point STRIPE_API_BASE elsewhere."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Turn the SDK's exceptions into ours, with customer-facing messages."""
    try:
        yield
    except stripe.CardError as exc:
        error = _error_body(exc)
        code = error.get("decline_code") or error.get("code") or "card_declined"
        logger.info("Card declined: %s", code)
        raise CardDeclined(failure_message(code), code=code) from exc
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
        logger.warning("Stripe unavailable: %s", exc)
        raise GatewayUnavailable(str(UNAVAILABLE), code="unavailable") from exc
    except stripe.StripeError as exc:
        logger.exception("Stripe request failed")
        raise PaymentError(str(FAILED), code=exc.code or "error") from exc


def _intent_of_declined_charge(client: stripe.StripeClient, exc: stripe.CardError) -> dict:
    """The PaymentIntent behind a 402 from ``confirm=True``.

    Real Stripe puts it in the error (``error.payment_intent``); localstripe only names the
    failed charge (``error.charge``), whose ``payment_intent`` leads to it.
    """
    error = _error_body(exc)
    if isinstance(error.get("payment_intent"), dict):
        return error["payment_intent"]
    if error.get("charge"):
        charge = client.v1.charges.retrieve(error["charge"]).to_dict()
        if charge.get("payment_intent"):
            return client.v1.payment_intents.retrieve(_id(charge["payment_intent"])).to_dict()
    raise exc


def _intent_state(intent: dict[str, Any]) -> IntentState:
    error = intent.get("last_payment_error") or {}
    failure_code = error.get("decline_code") or error.get("code") or None
    if error and not failure_code:
        failure_code = "payment_failed"
    return IntentState(
        id=intent["id"],
        status=intent["status"],
        amount=intent["amount"],
        currency=intent["currency"],
        client_secret=intent.get("client_secret") or "",
        customer_id=_id(intent.get("customer")),
        payment_method=_id(intent.get("payment_method")),
        order_number=(intent.get("metadata") or {}).get("order"),
        charge_id=_id(intent.get("latest_charge")),
        failure_code=failure_code,
        failure_message=failure_message(failure_code) if failure_code else None,
        requires_action=intent["status"] == "requires_action",
        amount_refunded=_amount_refunded(intent.get("latest_charge")),
    )


def _amount_refunded(charge: str | dict | None) -> int:
    """Only an expanded charge says what was refunded; an id alone says nothing (0)."""
    return int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    return (exc.json_body or {}).get("error") or {}


def _id(value: str | dict | None) -> str | None:
    """An id whether Stripe sent the id or the expanded object (localstripe expands charges)."""
    if isinstance(value, dict):
        return value.get("id")
    return value
