"""The one module that talks to Stripe (DESIGN §5).

Everything else sees domain dataclasses and the exceptions below, never a ``stripe`` object.
The client is built from settings at call time, so localstripe (tests, ``make run``) and
api.stripe.com differ only by ``STRIPE_API_BASE`` and the keys. Every request carries
``Stripe-Version: STRIPE_API_VERSION``, the version the pinned SDK is generated for, and sends only
parameters the SDK's typed params list for that endpoint (``tests/orders/payments/test_contract.py``
records every request and checks both).

Cards are PaymentMethods (``pm_…``) saved on a Stripe Customer by a SetupIntent that the page
confirms with stripe.js; card numbers never reach this server.

Behaviour callers rely on:

- A card refused when it is set up is refused in the page (stripe.js), never here.
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

#: The API version the installed SDK's types are generated for (``settings.STRIPE_API_VERSION``
#: must equal it).
SDK_API_VERSION = stripe.api_version
CURRENCY = "jpy"  # zero-decimal: amount=5980 is ¥5,980
TIMEOUT_SECONDS = 10
# Retries reuse the request's Idempotency-Key on real Stripe. localstripe ignores that header,
# so a retried POST there could act twice (a duplicate charge is refunded automatically).
MAX_NETWORK_RETRIES = 2
WEBHOOK_TOLERANCE_SECONDS = 300
# Stripe's events nest a few levels (event → data → object → charges → card); far deeper is not
# Stripe, and would exhaust the stack of whatever walks it next.
MAX_EVENT_DEPTH = 64
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
# Confirm in the page, never by a redirect: 3-D Secure runs in stripe.js (DESIGN 5.3). On this API
# version a PaymentIntent or SetupIntent takes its payment methods from the Dashboard's settings
# (``payment_method_types`` is refused); "never" keeps out those that need a redirect.
AUTOMATIC_PAYMENT_METHODS = {"enabled": True, "allow_redirects": "never"}
CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "jcb": "JCB",
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "unionpay": "UnionPay",
}


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


class NotFound(PaymentError):
    """Stripe has no such object (for our key): asking again will not change that."""


class InvalidWebhook(Exception):
    """A webhook request whose signature, timestamp or body cannot be trusted."""


@dataclass(frozen=True)
class CardInfo:
    payment_method: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer_id: str | None


@dataclass(frozen=True)
class SetupState:
    id: str
    status: str
    client_secret: str = field(repr=False)
    customer_id: str | None
    payment_method: str | None

    @property
    def usable(self) -> bool:
        """Still waiting for a card (or for its 3-D Secure): the page may confirm it."""
        return self.status in (
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        )


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
    def needs_authentication(self) -> bool:
        """The bank wants 3-D Secure: ``requires_action``, or (off session, real Stripe) a
        ``requires_payment_method`` whose last error is ``authentication_required``."""
        return self.requires_action or (
            self.status == "requires_payment_method"
            and self.failure_code == "authentication_required"
        )


@dataclass(frozen=True)
class RefundState:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent_id: str | None
    charge_id: str | None
    failure_reason: str = ""


@dataclass(frozen=True)
class DisputeState:
    id: str
    status: str
    amount: int
    currency: str
    charge_id: str | None
    payment_intent_id: str | None
    reason: str = ""


# --- Customers and cards --------------------------------------------------------------------------


def ensure_customer(
    *, email: str, customer_id: str | None = None, metadata: dict[str, str] | None = None
) -> str:
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
        params: dict[str, Any] = {"email": email} if email else {}
        if metadata:
            params["metadata"] = metadata
        return client.v1.customers.create(params).id


def create_setup_intent(
    *, customer_id: str, order_number: str = "", license_serial: str = ""
) -> SetupState:
    """A SetupIntent for the details step: the page confirms it with the card Element
    (``stripe.confirmCardSetup``), Stripe may ask for 3-D Secure there, and on success the
    PaymentMethod is attached to the customer. ``usage=off_session`` so that a card kept with
    consent can renew automatically later. The license page sets up the card of automatic
    renewal the same way (``license_serial`` instead of an order)."""
    with _stripe_errors():
        setup = (
            _client()
            .v1.setup_intents.create(
                {
                    "customer": customer_id,
                    "usage": "off_session",
                    "automatic_payment_methods": AUTOMATIC_PAYMENT_METHODS,
                    "metadata": (
                        {"order": order_number}
                        if order_number
                        else {"automatic_renewal": license_serial}
                    ),
                }
            )
            .to_dict()
        )
    return _setup_state(setup)


def retrieve_setup_intent(*, setup_intent_id: str) -> SetupState:
    with _stripe_errors():
        return _setup_state(_client().v1.setup_intents.retrieve(setup_intent_id).to_dict())


def cancel_setup_intent(*, setup_intent_id: str) -> SetupState:
    """Cancel a SetupIntent nobody will confirm any more (a stale order)."""
    with _stripe_errors():
        return _setup_state(_client().v1.setup_intents.cancel(setup_intent_id).to_dict())


def retrieve_payment_method(*, payment_method_id: str) -> CardInfo:
    """Brand, last 4 and expiry of a card as Stripe has them, and the customer it belongs to."""
    with _stripe_errors():
        method = _client().v1.payment_methods.retrieve(payment_method_id).to_dict()
    card = method.get("card") or {}
    if method.get("type") != "card" or not card.get("last4"):
        raise PaymentError(str(FAILED), code="not_a_card")
    brand = str(card.get("brand") or "")
    return CardInfo(
        payment_method=method["id"],
        brand=CARD_BRANDS.get(brand.lower(), brand.title()),
        last4=str(card["last4"]),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        customer_id=_id(method.get("customer")),
    )


def detach_payment_method(*, payment_method_id: str) -> None:
    """Take a card off its customer: it can never be charged again."""
    with _stripe_errors():
        _client().v1.payment_methods.detach(payment_method_id)


# --- PaymentIntents -------------------------------------------------------------------------------


def create_and_confirm_payment_intent(
    *, amount: int, customer_id: str, payment_method: str, order_number: str, idempotency_key: str
) -> IntentState:
    """Create and confirm a card PaymentIntent in one call, on session.

    Without ``return_url`` and with redirects excluded, Stripe answers ``requires_action`` with a
    ``use_stripe_sdk`` next action when the bank wants 3-D Secure, which stripe.js completes in
    the page (``handleNextAction``; localstripe's stand-in: ``confirmCardPayment``).

    A decline at charge arrives as a 402 error, not as a PaymentIntent; the PaymentIntent exists
    all the same and is returned (``requires_payment_method`` with the failure).
    """
    client = _client()
    params = {
        "amount": amount,
        "currency": CURRENCY,
        "customer": customer_id,
        "payment_method": payment_method,
        "confirm": True,
        "automatic_payment_methods": AUTOMATIC_PAYMENT_METHODS,
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


def create_off_session_payment_intent(
    *, amount: int, customer_id: str, payment_method: str, order_number: str, idempotency_key: str
) -> IntentState:
    """Charge a saved card with nobody at the page (automatic renewal, DESIGN 6a).

    ``off_session=True, confirm=True`` with the Customer and its saved PaymentMethod, the one
    Idempotency-Key of the attempt. A decline arrives as a 402 and is returned as the
    PaymentIntent in ``requires_payment_method`` (like the on-session charge). When the bank
    wants 3-D Secure, real Stripe answers 402 ``authentication_required`` (the PaymentIntent
    then waits in ``requires_payment_method`` with that code); localstripe answers
    ``requires_action`` instead. Both mean "the customer must authenticate in the browser"
    (``IntentState.needs_authentication``).
    """
    client = _client()
    params = {
        "amount": amount,
        "currency": CURRENCY,
        "customer": customer_id,
        "payment_method": payment_method,
        "off_session": True,
        "confirm": True,
        "metadata": {"order": order_number, "kind": "automatic"},
    }
    with _stripe_errors():
        try:
            intent = client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}
            ).to_dict()
        except stripe.CardError as exc:
            intent = _intent_of_declined_charge(client, exc)
    state = _intent_state(intent)
    logger.info(
        "Off-session PaymentIntent %s for order %s: %s", state.id, order_number, state.status
    )
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


# --- Refunds and disputes -------------------------------------------------------------------------


def refund_payment(
    *,
    payment_intent_id: str,
    idempotency_key: str,
    amount: int | None = None,
    duplicate: bool = False,
    order_number: str = "",
) -> RefundState:
    """Refund (``amount`` of, default all of) the charge of a PaymentIntent.

    The answer may be ``pending`` (it succeeds or fails later, reported by ``refund.updated`` /
    ``refund.failed``) or ``succeeded``. localstripe ignores the Idempotency-Key and refunds again
    on every call: the caller claims the refund in its own table first.
    """
    params: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    if duplicate:
        params["reason"] = "duplicate"
    if order_number:
        params["metadata"] = {"order": order_number}
    with _stripe_errors():
        refund = _client().v1.refunds.create(params, {"idempotency_key": idempotency_key}).to_dict()
    return _refund_state(refund)


def retrieve_refund(*, refund_id: str) -> RefundState:
    with _stripe_errors():
        return _refund_state(_client().v1.refunds.retrieve(refund_id).to_dict())


def list_refunds(*, payment_intent_id: str) -> list[RefundState]:
    """Every refund of a PaymentIntent's charge, including those made in Stripe's dashboard."""
    with _stripe_errors():
        page = _client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100})
        return [_refund_state(refund.to_dict()) for refund in page.auto_paging_iter()]


def retrieve_dispute(*, dispute_id: str) -> DisputeState:
    """A dispute, with the PaymentIntent it is about (read from its charge if need be)."""
    client = _client()
    with _stripe_errors():
        dispute = client.v1.disputes.retrieve(dispute_id).to_dict()
        intent_id = _id(dispute.get("payment_intent"))
        charge_id = _id(dispute.get("charge"))
        if intent_id is None and charge_id:
            intent_id = _id(client.v1.charges.retrieve(charge_id).to_dict().get("payment_intent"))
    return DisputeState(
        id=dispute["id"],
        status=dispute["status"],
        amount=int(dispute["amount"]),
        currency=dispute["currency"],
        charge_id=charge_id,
        payment_intent_id=intent_id,
        reason=str(dispute.get("reason") or ""),
    )


# --- Webhooks -------------------------------------------------------------------------------------


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


# --- The client -----------------------------------------------------------------------------------


def _client() -> stripe.StripeClient:
    return _client_for(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_API_VERSION
    )


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, api_version: str) -> stripe.StripeClient:
    """One client per configuration, so tests can point STRIPE_API_BASE elsewhere."""
    return stripe.StripeClient(
        api_key,
        stripe_version=api_version,
        base_addresses={"api": api_base},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=_http_client(),
    )


def _http_client() -> stripe.HTTPClient:
    """The HTTP client under the SDK (the contract test puts a recording one here)."""
    return stripe.RequestsClient(timeout=TIMEOUT_SECONDS)


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
        logger.warning("Stripe request failed: %s", exc)
        error_class = NotFound if exc.http_status == 404 else PaymentError
        raise error_class(str(FAILED), code=exc.code or "error") from exc


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


def _setup_state(setup: dict[str, Any]) -> SetupState:
    return SetupState(
        id=setup["id"],
        status=setup["status"],
        client_secret=setup.get("client_secret") or "",
        customer_id=_id(setup.get("customer")),
        payment_method=_id(setup.get("payment_method")),
    )


def _intent_state(intent: dict[str, Any]) -> IntentState:
    error = intent.get("last_payment_error") or {}
    failure_code = error.get("decline_code") or error.get("code") or None
    if error and not failure_code:
        failure_code = "payment_failed"
    return IntentState(
        id=intent["id"],
        status=intent["status"],
        amount=int(intent["amount"]),
        currency=str(intent["currency"]).lower(),
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


def _refund_state(refund: dict[str, Any]) -> RefundState:
    return RefundState(
        id=refund["id"],
        status=refund["status"],
        amount=int(refund["amount"]),
        currency=str(refund["currency"]).lower(),
        payment_intent_id=_id(refund.get("payment_intent")),
        charge_id=_id(refund.get("charge")),
        failure_reason=str(refund.get("failure_reason") or ""),
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
