"""The Stripe gateway against a real localstripe (no mocks)."""

import hashlib
import hmac
import json
import queue
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings

from orders.payments import gateway
from orders.payments.testing import SetupDeclined, authenticate_3d_secure, confirm_card_setup

pytestmark = pytest.mark.usefixtures("localstripe")

VISA = "4242424242424242"
DECLINED_WHEN_ADDED = "4000000000000002"
DECLINED_AT_CHARGE = "4000000000000341"
THREE_D_SECURE = "4000002760003184"


@pytest.fixture
def customer_id():
    return gateway.ensure_customer(email="hanako@example.com")


def set_up_card(customer_id, number, *, order_number="R-0001") -> str:
    """A card set up in the page (stripe.js confirms the SetupIntent): its ``pm_…`` id."""
    setup = gateway.create_setup_intent(customer_id=customer_id, order_number=order_number)
    return confirm_card_setup(setup.client_secret, number)["payment_method"]


def pay(customer_id, number, *, amount=5980, order_number="R-0001"):
    return gateway.create_and_confirm_payment_intent(
        amount=amount,
        customer_id=customer_id,
        payment_method=set_up_card(customer_id, number, order_number=order_number),
        order_number=order_number,
        idempotency_key=f"{order_number}-{uuid.uuid4()}",
    )


def sign(payload: bytes, *, timestamp=None, secret=None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def test_ensure_customer_keeps_a_known_customer_and_replaces_an_unknown_one(customer_id):
    assert gateway.ensure_customer(email="hanako@example.com", customer_id=customer_id) == (
        customer_id
    )
    replaced = gateway.ensure_customer(email="hanako@example.com", customer_id="cus_gone")
    assert replaced.startswith("cus_") and replaced != customer_id


def test_card_set_up_in_the_page_is_on_the_customer_with_brand_and_last_four(customer_id):
    setup = gateway.create_setup_intent(customer_id=customer_id, order_number="R-0001")
    assert setup.status == "requires_payment_method" and setup.usable
    assert setup.client_secret.startswith(f"{setup.id}_secret_")

    method = confirm_card_setup(setup.client_secret, VISA)["payment_method"]

    assert method.startswith("pm_")
    card = gateway.retrieve_payment_method(payment_method_id=method)
    assert (card.brand, card.last4, card.exp_month) == ("Visa", "4242", 12)
    assert card.customer_id == customer_id  # attached, as Stripe does on success
    assert gateway.retrieve_setup_intent(setup_intent_id=setup.id).status == "succeeded"


def test_3d_secure_asked_at_setup_then_completed_attaches_the_card(customer_id):
    setup = gateway.create_setup_intent(customer_id=customer_id, order_number="R-0001")

    method = confirm_card_setup(setup.client_secret, THREE_D_SECURE)["payment_method"]

    assert gateway.retrieve_payment_method(payment_method_id=method).customer_id == customer_id


def test_card_refused_at_setup_never_reaches_the_customer(customer_id):
    setup = gateway.create_setup_intent(customer_id=customer_id, order_number="R-0001")

    with pytest.raises(SetupDeclined) as declined:
        confirm_card_setup(setup.client_secret, DECLINED_WHEN_ADDED)

    assert declined.value.code == "card_declined"
    assert gateway.retrieve_setup_intent(setup_intent_id=setup.id).status != "succeeded"


def test_detached_card_is_no_longer_on_the_customer(customer_id):
    method = set_up_card(customer_id, VISA)

    gateway.detach_payment_method(payment_method_id=method)

    assert gateway.retrieve_payment_method(payment_method_id=method).customer_id is None


def test_visa_card_pays_the_yen_amount_at_once(customer_id):
    intent = pay(customer_id, VISA, amount=5980, order_number="R-1001")

    assert intent.status == "succeeded" and intent.succeeded
    assert (intent.amount, intent.currency) == (5980, "jpy")
    assert intent.order_number == "R-1001"
    assert intent.customer_id == customer_id
    assert intent.payment_method.startswith("pm_")
    assert intent.charge_id.startswith("ch_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert not intent.requires_action
    assert intent.failure_code is None and intent.failure_message is None
    assert gateway.retrieve_payment_intent(payment_intent_id=intent.id) == intent


def test_card_refused_at_charge_returns_the_unpaid_intent_with_the_reason(customer_id):
    intent = pay(customer_id, DECLINED_AT_CHARGE, order_number="R-1002")

    assert intent.status == "requires_payment_method" and not intent.succeeded
    assert intent.failure_code == "card_declined"
    assert intent.failure_message
    assert intent.order_number == "R-1002"
    assert intent.charge_id.startswith("ch_")
    assert gateway.retrieve_payment_intent(payment_intent_id=intent.id).failure_code == (
        "card_declined"
    )


def test_3d_secure_card_pays_once_authenticated(customer_id):
    intent = pay(customer_id, THREE_D_SECURE)
    assert intent.status == "requires_action" and intent.requires_action
    assert intent.charge_id is None

    authenticate_3d_secure(intent.client_secret, success=True)

    paid = gateway.retrieve_payment_intent(payment_intent_id=intent.id)
    assert paid.status == "succeeded" and not paid.requires_action
    assert paid.charge_id.startswith("ch_")


def test_failed_3d_secure_leaves_the_intent_unpaid_with_the_reason(customer_id):
    intent = pay(customer_id, THREE_D_SECURE)

    authenticate_3d_secure(intent.client_secret, success=False)

    failed = gateway.retrieve_payment_intent(payment_intent_id=intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.failure_code == "payment_intent_authentication_failure"
    assert failed.failure_message
    assert failed.payment_method is None and failed.charge_id is None


def test_refund_returns_the_whole_amount(customer_id):
    intent = pay(customer_id, VISA)

    refund = gateway.refund_payment(
        payment_intent_id=intent.id, idempotency_key=f"refund-{intent.id}"
    )

    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.currency) == ("succeeded", 5980, "jpy")
    assert (refund.payment_intent_id, refund.charge_id) == (intent.id, intent.charge_id)


def test_partial_refund_returns_that_amount_and_is_listed(customer_id):
    intent = pay(customer_id, VISA)

    refund = gateway.refund_payment(
        payment_intent_id=intent.id, idempotency_key=f"refund-{intent.id}", amount=1000
    )

    assert (refund.status, refund.amount) == ("succeeded", 1000)
    assert [r.id for r in gateway.list_refunds(payment_intent_id=intent.id)] == [refund.id]


def test_refund_of_a_pending_refund_card_is_pending_then_succeeds(customer_id):
    """Stripe's test card 4000000000007726: the refund starts pending and succeeds later."""
    intent = pay(customer_id, "4000000000007726")

    refund = gateway.refund_payment(payment_intent_id=intent.id, idempotency_key="r-pending")

    assert refund.status == "pending"
    settled = wait_for_refund(refund.id, "succeeded")
    assert settled.amount == 5980


def test_refund_of_a_failing_refund_card_succeeds_then_fails(customer_id):
    """Stripe's test card 4000000000005126: the refund starts succeeded and fails later."""
    intent = pay(customer_id, "4000000000005126")

    refund = gateway.refund_payment(payment_intent_id=intent.id, idempotency_key="r-failing")

    assert refund.status == "succeeded"
    assert wait_for_refund(refund.id, "failed").failure_reason


def wait_for_refund(refund_id, status, *, timeout=10):
    deadline = time.monotonic() + timeout
    while (refund := gateway.retrieve_refund(refund_id=refund_id)).status != status:
        assert time.monotonic() < deadline, f"refund {refund_id} is still {refund.status}"
        time.sleep(0.1)
    return refund


def test_refusing_to_refund_a_failed_payment_is_a_payment_error(customer_id):
    intent = pay(customer_id, DECLINED_AT_CHARGE)

    with pytest.raises(gateway.PaymentError) as error:
        gateway.refund_payment(payment_intent_id=intent.id, idempotency_key="refund-failed")

    assert not isinstance(error.value, gateway.GatewayUnavailable)


def test_unknown_payment_intent_is_a_payment_error():
    with pytest.raises(gateway.PaymentError):
        gateway.retrieve_payment_intent(payment_intent_id="pi_doesnotexist")


def test_closed_port_makes_the_gateway_unavailable(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(gateway.GatewayUnavailable) as unavailable:
        gateway.ensure_customer(email="hanako@example.com")

    assert unavailable.value.message


def test_correctly_signed_webhook_is_parsed():
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {}}).encode()

    event = gateway.parse_webhook(payload=payload, signature_header=sign(payload))

    assert event["id"] == "evt_1" and event["type"] == "payment_intent.succeeded"


@pytest.mark.parametrize(
    ("payload", "header"),
    [
        pytest.param(b'{"id": "evt_1", "type": "x", "data": {}}', "forged", id="forged"),
        pytest.param(b'{"id": "evt_1", "type": "x", "data": {}}', "stale", id="stale"),
        pytest.param(b'{"id": "evt_1", "type": "x", "data": {}}', "missing", id="no-signature"),
        pytest.param(b"{not json", "valid", id="bad-json"),
        pytest.param(b'["not", "an", "event"]', "valid", id="not-an-event"),
    ],
)
def test_untrustworthy_webhook_is_refused(payload, header):
    header = {
        "forged": sign(payload, secret="whsec_forged"),
        "stale": sign(payload, timestamp=int(time.time()) - 301),
        "missing": "",
        "valid": sign(payload),
    }[header]

    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(payload=payload, signature_header=header)


@contextmanager
def serve(handler_class):
    """Run an HTTP handler on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def webhook_receiver():
    """Yields (url, queue of (body, Stripe-Signature)) for each POST received."""
    received = queue.Queue()

    class Receiver(QuietHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

    with serve(Receiver) as base_url:
        yield f"{base_url}/stripe/webhook/", received


def test_stripe_failing_on_its_side_makes_the_gateway_unavailable(settings):
    class Failing(QuietHandler):
        def do_POST(self):
            body = b'{"error": {"type": "api_error", "message": "Something went wrong."}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with serve(Failing) as base_url:
        settings.STRIPE_API_BASE = base_url
        with pytest.raises(gateway.GatewayUnavailable):
            gateway.ensure_customer(email="hanako@example.com")


def test_localstripe_posts_a_signed_payment_intent_succeeded_event(
    customer_id, localstripe_webhook, webhook_receiver
):
    url, received = webhook_receiver
    localstripe_webhook(url)

    intent = pay(customer_id, VISA)

    event = wait_for_event(received, "payment_intent.succeeded", intent.id)
    assert event["data"]["object"]["metadata"] == {"order": "R-0001"}


def wait_for_event(received, event_type, object_id, *, timeout=10):
    """The first event of that type about that object; each must carry a valid signature."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            body, signature = received.get(timeout=remaining)
        except queue.Empty:
            break
        event = gateway.parse_webhook(payload=body, signature_header=signature)
        if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
            return event
    pytest.fail(f"no {event_type} event for {object_id} within {timeout} s")
