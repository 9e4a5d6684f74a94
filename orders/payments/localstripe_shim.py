"""Teach localstripe what today's Stripe does, in one place (DESIGN 5.3, 5.9).

localstripe speaks a 2017 API. ``manage.py run_localstripe`` (used by ``make run``, the tests and
the benchmarks) calls ``install`` before serving, so the gateway can send exactly what the real
API expects and localstripe follows along:

- parameters of today's API that it does not know and that change nothing it simulates are
  accepted and ignored (``automatic_payment_methods`` on PaymentIntents and SetupIntents, a
  refund's ``reason``), instead of a 400 "Unexpected";
- a SetupIntent confirmed for a customer attaches its PaymentMethod to that customer, as Stripe
  does (localstripe leaves it unattached);
- refunds behave like Stripe's refund test cards: 4000000000007726 refunds ``pending`` and
  succeed a moment later, 4000000000005126 refunds ``succeeded`` and fail a moment later; every
  refund posts ``charge.refunded`` / ``refund.created``, and the later change ``refund.updated``
  or ``refund.failed`` and ``charge.refund.updated`` (localstripe sends no refund events);
- disputes exist: a charge of 4000000000000259 is disputed as fraudulent
  (``charge.dispute.created``), ``GET /v1/disputes/{id}`` and ``/v1/disputes`` read them and
  ``POST /v1/disputes/{id}/close`` accepts (loses) one (``charge.dispute.closed``);
- an off-session PaymentIntent (``off_session=True, confirm=True``) of a card that wants 3-D
  Secure (4000002760003184...) fails as Stripe's does: 402 ``authentication_required`` with the
  PaymentIntent, left in ``requires_payment_method`` (localstripe answers ``requires_action``, a
  challenge nobody is there to complete);
- events carry the API version the shop's endpoint is registered at;
- nothing is written to ``/tmp/localstripe.pickle`` (the store starts empty every time).

localstripe still ignores ``Idempotency-Key`` on purpose: the shop's own guards (claims in the
database) are what the tests exercise.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, Refund, SetupIntent
from localstripe.webhooks import schedule_webhook

#: Seconds before an asynchronous refund (pending → succeeded, succeeded → failed) settles.
REFUND_SETTLE_SECONDS = 1.0
REFUND_SUCCEEDS_LATER = "4000000000007726"
REFUND_FAILS_LATER = "4000000000005126"
DISPUTED_AS_FRAUD = "4000000000000259"

# Parameters of today's API that localstripe refuses and that change nothing it simulates.
_IGNORED_PARAMS = {
    PaymentIntent: {"automatic_payment_methods"},
    SetupIntent: {"automatic_payment_methods"},
    Refund: {"reason"},
}
_SETUP_CONFIRM = re.compile(r"^/v1/setup_intents/(?P<id>\w+)/confirm$")
_installed = False


class Dispute(resources.StripeObject):
    """A card holder's dispute of a charge, as much as the shop reads of one."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Charge, reason: str = "fraudulent"):
        super().__init__()
        self.amount = charge.amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = reason
        self.status = "needs_response"
        self.is_charge_refundable = False
        self.balance_transactions = []
        self.evidence_details = {"has_evidence": False, "past_due": False, "submission_count": 0}
        self.metadata = {}

    @classmethod
    def _api_create(cls, **data):
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_list_all(
        cls, url, charge=None, payment_intent=None, limit=None, starting_after=None, **kwargs
    ):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        page = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        page._list = [
            dispute
            for dispute in page._list
            if charge in (None, dispute.charge) and payment_intent in (None, dispute.payment_intent)
        ]
        return page

    @classmethod
    def _api_close(cls, id, **kwargs):
        """Accepting a dispute at Stripe closes it as lost."""
        dispute = cls._api_retrieve(id)
        if dispute.status not in ("needs_response", "warning_needs_response", "under_review"):
            raise UserError(400, "This dispute is already closed.")
        dispute.status = "lost"
        schedule_webhook(Event("charge.dispute.closed", dispute))
        return dispute


def install(*, api_version: str) -> None:
    """Patch localstripe's app and resources (once per process), before it serves."""
    global _installed
    if _installed:
        return
    _installed = True
    resources.store.dump_to_disk = lambda: None
    for cls, ignored in _IGNORED_PARAMS.items():
        _ignore_params(cls, ignored)
    _stamp_events(api_version)
    _refund_like_stripe()
    _dispute_like_stripe()
    _off_session_authentication_like_stripe()
    server.app.middlewares.append(_attach_after_setup)
    for method, path, handler in (
        ("GET", "/v1/disputes", server.api_list_all(Dispute, "/v1/disputes")),
        ("GET", "/v1/disputes/{id}", server.api_retrieve(Dispute, "/v1/disputes/{id}")),
        ("POST", "/v1/disputes/{id}/close", server.api_extra(Dispute._api_close, "")),
    ):
        server.app.router.add_route(method, path, handler)


def _ignore_params(cls, ignored: set[str]) -> None:
    create = cls._api_create

    def _api_create(klass, **data):
        for name in ignored:
            data.pop(name, None)
        return create(**data)

    cls._api_create = classmethod(_api_create)


def _stamp_events(api_version: str) -> None:
    """Events are rendered at the version the shop's endpoint is registered at (localstripe
    writes its own 2017 one)."""
    init = Event.__init__

    def __init__(self, type, data):
        init(self, type, data)
        self.api_version = api_version

    Event.__init__ = __init__


@web.middleware
async def _attach_after_setup(request, handler):
    """Stripe attaches a SetupIntent's PaymentMethod to the SetupIntent's customer once it
    succeeds (also after 3-D Secure); localstripe's stripe.js confirms it but never attaches."""
    response = await handler(request)
    match = _SETUP_CONFIRM.match(request.path)
    if request.method == "POST" and match and response.status == 200:
        setup = resources.store.get("setup_intent:" + match["id"])
        if setup and setup.status == "succeeded" and setup.customer and setup.payment_method:
            PaymentMethod._api_retrieve(setup.payment_method).customer = setup.customer
    return response


def _card_number(charge: Charge) -> str:
    method = PaymentMethod._api_retrieve(charge.payment_method)
    return getattr(method, "_card_number", "")


def _refund_like_stripe() -> None:
    create = Refund._api_create

    def _api_create(klass, **data):
        refund = create(**data)
        charge = Charge._api_retrieve(refund.charge)
        refund.payment_intent = refund.payment_intent or charge.payment_intent
        refund.failure_reason = None
        number = _card_number(charge)
        if number == REFUND_SUCCEEDS_LATER:
            refund.status = "pending"
            _later(_settle_refund(refund, "succeeded", "refund.updated"))
        elif number == REFUND_FAILS_LATER:
            _later(_settle_refund(refund, "failed", "refund.failed"))
        schedule_webhook(Event("charge.refunded", charge))
        schedule_webhook(Event("refund.created", refund))
        return refund

    Refund._api_create = classmethod(_api_create)


async def _settle_refund(refund, status: str, event_type: str) -> None:
    await asyncio.sleep(REFUND_SETTLE_SECONDS)
    refund.status = status
    if status == "failed":
        refund.failure_reason = "expired_or_canceled_card"
    schedule_webhook(Event(event_type, refund))
    schedule_webhook(Event("charge.refund.updated", refund))


def _dispute_like_stripe() -> None:
    trigger_payment = Charge._trigger_payment

    def _trigger_payment(self, on_success=None):
        trigger_payment(self, on_success)
        if self.status == "succeeded" and _card_number(self) == DISPUTED_AS_FRAUD:
            self.disputed = True
            schedule_webhook(Event("charge.dispute.created", Dispute(self)))

    Charge._trigger_payment = _trigger_payment


def _off_session_authentication_like_stripe() -> None:
    """Stripe cannot ask for 3-D Secure with nobody at the page: an off-session charge of a card
    that requires it fails with ``authentication_required`` (the customer is brought back on
    session to pay). Nothing is charged and the PaymentIntent waits for a payment method."""
    create = PaymentIntent._api_create
    status = PaymentIntent.status
    last_payment_error = PaymentIntent.last_payment_error

    def _api_create(klass, confirm=None, off_session=None, **data):
        wants_authentication = (
            str(off_session).lower() == "true"
            and str(confirm).lower() == "true"
            and data.get("payment_method")
            and PaymentMethod._api_retrieve(data["payment_method"])._requires_authentication()
        )
        if not wants_authentication:
            return create(confirm=confirm, off_session=off_session, **data)
        intent = create(**data)  # created, not confirmed
        intent._authentication_required = True
        schedule_webhook(Event("payment_intent.payment_failed", intent))
        raise UserError(
            402,
            "Your card was declined. This transaction requires authentication.",
            {
                "code": "authentication_required",
                "decline_code": "authentication_required",
                "payment_intent": intent._export(),
            },
        )

    def _status(self):
        if getattr(self, "_authentication_required", False) and not self._canceled:
            return "requires_payment_method"
        return status.fget(self)

    def _last_payment_error(self):
        if getattr(self, "_authentication_required", False):
            return {
                "code": "authentication_required",
                "decline_code": "authentication_required",
                "message": "This transaction requires authentication.",
                "payment_method": {"id": self.payment_method},
            }
        return last_payment_error.fget(self)

    PaymentIntent._api_create = classmethod(_api_create)
    PaymentIntent.status = property(_status)
    PaymentIntent.last_payment_error = property(_last_payment_error)


_pending: set[asyncio.Future] = set()


def _later(coroutine) -> None:
    """Run ``coroutine`` on localstripe's loop, holding a reference until it is done."""
    future = asyncio.ensure_future(coroutine)
    _pending.add(future)
    future.add_done_callback(_pending.discard)
