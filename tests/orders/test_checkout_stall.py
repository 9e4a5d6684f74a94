"""Issue 9, point 12: a Stripe stall must not hold a database transaction.

``confirm_order`` claims the attempt in a committed state change, calls Stripe outside any
transaction, then records the answer. With SQLite (the embedded default) a transaction open
across the call would make every other writer wait for the lock (20 s, then "database is
locked"); here Stripe stalls while a customer signs in and a webhook is stored.
"""

import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test import Client

from orders import services
from orders.models import Order, WebhookEvent
from tests.helpers.orders import order_with_card
from tests.helpers.stripe import event, post_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("localstripe")]

STALL_SECONDS = 15  # at most; the test releases it as soon as it has seen enough


@contextmanager
def stalling_stripe(upstream: str):
    """A tiny proxy in front of localstripe that holds ``POST /v1/payment_intents`` until
    released. Yields (base URL, event set when a charge arrived, event that releases it)."""
    arrived, release = threading.Event(), threading.Event()

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
            if self.command == "POST" and self.path == "/v1/payment_intents":
                arrived.set()
                release.wait(STALL_SECONDS)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            request = urllib.request.Request(
                upstream + self.path, data=body, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, content = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, content = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", arrived, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_issue9_12_sign_ins_and_webhooks_work_while_stripe_stalls_a_confirmation(
    customer, settings
):
    order = order_with_card(customer)
    results = []

    def confirm():
        try:
            results.append(services.confirm_order(order=order))
        finally:
            connection.close()

    with stalling_stripe(settings.STRIPE_API_BASE) as (stalled_base, arrived, release):
        settings.STRIPE_API_BASE = stalled_base
        confirming = threading.Thread(target=confirm)
        confirming.start()
        assert arrived.wait(10), "the charge never reached Stripe"

        started = time.monotonic()
        sign_in = Client().post(
            "/accounts/login/", {"username": customer.email, "password": "correct-horse-2026"}
        )
        webhook = post_event(Client(), event("evt_during_stall", "customer.created", {"id": "c"}))
        took = time.monotonic() - started

        assert confirming.is_alive()  # Stripe is still stalling the confirmation
        assert sign_in.status_code == 302 and sign_in["Location"] == "/licenses/"
        assert webhook.status_code == 200
        assert WebhookEvent.objects.filter(stripe_id="evt_during_stall").exists()
        assert took < 5, f"writes waited {took:.1f} s for the stalled confirmation"
        # The claim is committed: another tab sees the attempt being charged, and cannot
        # charge it a second time meanwhile.
        assert Order.objects.get(pk=order.pk).status == "awaiting_payment"
        assert services.confirm_order(order=order).payment.stripe_payment_intent is None
        release.set()
        confirming.join(30)

    assert results and results[0].order.status in ("paid", "fulfilled")
    assert Order.objects.get(pk=order.pk).payments.get().stripe_payment_intent
