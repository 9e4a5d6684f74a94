"""Browser tests: Debian's Chromium driven by Playwright's sync API.

Fixtures: ``browser`` (one Chromium for the whole session) and ``page`` (a fresh context per
test, Japanese locale; a screenshot lands in ``test-results/<test>.png`` when the test fails).
Helpers: ``screenshot(page, name)`` and ``login(page, live_server_url, email, password)``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# Playwright's sync API runs an asyncio event loop in the test thread and, between calls, leaves
# it marked as running. Django's async-safety check then sees a "running loop" and every ORM call
# from that thread raises SynchronousOnlyOperation: in the browser test itself (creating a user),
# in pytest-django's flush of the transactional database after it, and in *any later test* of the
# session, browser or not, because the browser fixture is session-scoped. The check protects an
# event loop that serves other coroutines from blocking calls; this loop only waits for the browser,
# so turning the check off for the whole test process is safe. It must be set before any test runs
# (here, at plugin import), not per test. Django reads it at each ORM call.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser downloads fail on this machine and in CI: use Debian's package.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    # Loopback only: keep Chromium from phoning home (updates, sync, field trials, QUIC probes).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
ROOT = Path(__file__).resolve().parents[2]
FAILURE_DIR = ROOT / "test-results"
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: browser tests need Debian's Chromium. "
            "Run `apt-get install -y chromium` (and `fonts-noto-cjk` for Japanese glyphs); "
            "`playwright install` cannot download browsers here.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the ``page`` fixture can see if the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request):
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        FAILURE_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(FAILURE_DIR / f"{name}.png"), full_page=True)
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG to ``docs/screenshots/<name>.png`` (for the docs) and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Page, live_server_url: str, email: str, password: str) -> None:
    """Sign in through the real form (Japanese URL); waits until the sign-in page is left."""
    page.goto(f"{live_server_url}/accounts/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
