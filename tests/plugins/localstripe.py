"""pytest plugin: one real localstripe for the test session, and what tests need around it.

``localstripe`` starts ``manage.py run_localstripe`` on a free loopback port and points
STRIPE_API_BASE and STRIPE_JS_URL at it. The helpers do server-side what stripe.js does in the
page: ``card_token`` (``stripe.createToken``) and ``authenticate_3d_secure`` (the
"Complete authentication" / "Fail authentication" box of ``stripe.confirmCardPayment``).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from django.conf import settings

STARTUP_TIMEOUT_SECONDS = 20


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[str]:
    """Base URL of a localstripe started for this session (empty store, no webhook)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    command = [sys.executable, "manage.py", "run_localstripe", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--webhook-url", ""],
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    saved = settings.STRIPE_API_BASE, settings.STRIPE_JS_URL
    saved_env = {name: os.environ.get(name) for name in ("STRIPE_API_BASE", "STRIPE_JS_URL")}
    try:
        _wait_until_answering(base_url, process, log_path)
        settings.STRIPE_API_BASE = base_url
        settings.STRIPE_JS_URL = f"{base_url}/js.stripe.com/v3/"
        # Processes the tests start (a Celery worker) read their settings from the environment.
        os.environ["STRIPE_API_BASE"] = settings.STRIPE_API_BASE
        os.environ["STRIPE_JS_URL"] = settings.STRIPE_JS_URL
        yield base_url
    finally:
        settings.STRIPE_API_BASE, settings.STRIPE_JS_URL = saved
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def localstripe_webhook(localstripe) -> Iterator[Callable[..., None]]:
    """``register(url, events=None)``: have localstripe post events to ``url`` during this test.

    localstripe posts every event to every registered URL about a second after it happens,
    once. Events of an earlier test may still be in flight: match on the object's id. At the
    end of the test the registration is muted (localstripe cannot delete one).
    """
    registered = []

    def register(url: str, *, events: list[str] | None = None) -> None:
        webhook_id = f"test{len(registered)}-{time.monotonic_ns()}"
        register_webhook(url, webhook_id=webhook_id, events=events)
        registered.append((webhook_id, url))

    yield register
    for webhook_id, url in registered:
        register_webhook(url, webhook_id=webhook_id, events=[])


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_answering(base_url: str, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(
        f"localstripe did not answer at {base_url}:\n{log_path.read_text(errors='replace')}"
    )
