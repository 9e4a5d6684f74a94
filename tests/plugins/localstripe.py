"""pytest plugin: one real localstripe for the test session.

``localstripe`` starts ``manage.py run_localstripe`` on a free loopback port and points
STRIPE_API_BASE and STRIPE_JS_URL at it; ``localstripe_webhook`` has it post events to a URL for
one test. What stripe.js does in the page is in ``orders.payments.testing``.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings

from orders.payments.testing import register_webhook

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
