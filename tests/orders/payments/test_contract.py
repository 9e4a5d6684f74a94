"""The contract with today's Stripe API (issue 10, point 1; DESIGN 5.1).

``tests/plugins/stripe_contract.py`` records every request the gateway makes in every test and
fails a test whose requests leave the pinned SDK's contract. Here: the pin itself, the whole
path of an order through Stripe in one test (what the recorder sees, endpoint by endpoint), and
that the check does catch what real Stripe would refuse.
"""

import datetime as dt
import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.payments import gateway
from orders.payments.disputes import sync_dispute
from orders.payments.reconciliation import reconcile_payments
from orders.payments.refunds import refund_order
from orders.payments.sync import sync_payment
from orders.payments.testing import authenticate_3d_secure, find_dispute
from tests.helpers.orders import add_card, order_for, order_with_card
from tests.helpers.stripe import THREE_DS
from tests.plugins.stripe_contract import ENDPOINTS, StripeRequest, contract_problems

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]

DISPUTED = "4000000000000259"


def test_issue10_1_the_api_version_is_the_pinned_sdks_and_sent_explicitly():
    pyproject = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text())
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("stripe"))
    assert re.fullmatch(r"stripe>=(\d+)\.(\d+),<\1\.\d+", pin), "a narrow range: one minor"
    installed = importlib.metadata.version("stripe")
    assert installed.startswith(re.search(r">=(\d+\.\d+)", pin).group(1))
    assert settings.STRIPE_API_VERSION == gateway.SDK_API_VERSION == "2026-10-28.endive"


def test_issue10_1_an_order_through_checkout_3ds_refund_dispute_and_sweep_stays_in_contract(
    stripe_contract, customer, django_capture_on_commit_callbacks
):
    """Every endpoint the shop uses is exercised once here; the recorder checks each request
    (and the fixture fails the test if any is out of contract)."""
    # Checkout with a card kept on the account; paid; the card saved (tasks run in-process).
    order = order_with_card(customer, keep_card=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    # 3-D Secure left for another card: the PaymentIntent is canceled; its card detached.
    abandoned = order_with_card(customer, THREE_DS)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=abandoned)
        services.abandon_attempt(order=Order.objects.get(pk=abandoned.pk))
    # A refund of the paid order, read back through the refunds of its payment.
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=Order.objects.get(pk=order.pk))
        sync_payment(payment=order.payments.get())
    # A disputed charge, re-read from Stripe.
    disputed = order_for(customer)
    add_card(disputed, DISPUTED)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=disputed)
    intent_id = disputed.payments.get().stripe_payment_intent
    sync_dispute(dispute_id=find_dispute(intent_id)["id"])
    # The sweep: a stuck 3-D Secure payment re-read, a stale order canceled at Stripe.
    stuck = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=stuck)
    authenticate_3d_secure(result.client_secret, success=True)
    stale = order_for(customer)
    services.prepare_card_setup(order=stale)
    services.prepare_card_setup(order=Order.objects.get(pk=stale.pk))  # the page reloaded
    long_ago = timezone.now() - dt.timedelta(days=2)
    Order.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))
    Order.objects.filter(pk=stale.pk).update(updated_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        report = reconcile_payments(older_than=dt.timedelta(minutes=5))
    assert (report.orders_synced, report.orders_canceled) == (1, 1)

    requests = stripe_contract.requests
    assert requests and stripe_contract.problems() == []
    assert {r.version for r in requests} == {settings.STRIPE_API_VERSION}
    seen = {r.endpoint for r in requests}
    expected = {params for _method, _path, params in ENDPOINTS}
    # Retrieving a charge happens only when a declined charge hides its PaymentIntent.
    assert expected - seen == {"ChargeRetrieveParams", "RefundRetrieveParams"}
    created = next(r for r in requests if r.endpoint == "PaymentIntentCreateParams")
    assert dict(created.params) | {"customer": "", "payment_method": ""} == {
        "amount": "4790",
        "currency": "jpy",
        "customer": "",
        "payment_method": "",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "metadata[order]": order.number,
    }


def request(method="POST", path="/v1/payment_intents", params=(), version=None) -> StripeRequest:
    version = settings.STRIPE_API_VERSION if version is None else version
    return StripeRequest(method=method, path=path, version=version or None, params=tuple(params))


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        pytest.param(
            request(params=[("amount", "4790"), ("payment_method_types[0]", "card")]),
            "payment_method_types[0] is not in stripe.params.PaymentIntentCreateParams",
            id="payment_method_types-refused-since-endive",
        ),
        pytest.param(
            request(params=[("automatic_payment_methods[redirects]", "never")]),
            "automatic_payment_methods[redirects]",
            id="unknown-nested-key",
        ),
        pytest.param(
            request(params=[("confirm", "yes")]), "confirm='yes' does not fit", id="not-a-bool"
        ),
        pytest.param(
            request(params=[("amount", "4790.5")]), "amount='4790.5' does not fit", id="not-an-int"
        ),
        pytest.param(
            request(path="/v1/customers/cus_1/sources", params=[("source", "tok_visa")]),
            "not an endpoint the shop calls",
            id="card-sources-are-gone",
        ),
        pytest.param(
            request(path="/v1/tokens", params=[("card[number]", "4242424242424242")]),
            "not an endpoint the shop calls",
            id="tokens-are-gone",
        ),
        pytest.param(
            request(params=[("amount", "4790")], version=""), "Stripe-Version None", id="no-version"
        ),
        pytest.param(
            request(params=[("amount", "4790")], version="2017-08-15"),
            "Stripe-Version '2017-08-15'",
            id="another-version",
        ),
        pytest.param(
            request(params=[("idempotency_key", "k")]),
            "idempotency_key is not in",
            id="a-request-option-is-no-form-param",
        ),
    ],
)
def test_issue10_1_the_contract_check_refuses_what_real_stripe_would(bad, complaint):
    problems = contract_problems(bad)
    assert any(complaint in problem for problem in problems), problems


def test_issue10_1_the_contract_check_accepts_what_the_gateway_sends():
    good = request(
        params=[
            ("amount", "4790"),
            ("currency", "jpy"),
            ("confirm", "true"),
            ("automatic_payment_methods[enabled]", "true"),
            ("automatic_payment_methods[allow_redirects]", "never"),
            ("metadata[order]", "R261201-ABCDEFGH"),
            ("expand[0]", "latest_charge"),
        ]
    )
    assert contract_problems(good) == []
