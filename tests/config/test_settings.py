"""Production settings: secrets only from the environment, ``check --deploy`` clean (DESIGN 9)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!kq2-production-secret-key-with-enough-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "shop.example.jp",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_JS_URL": "https://js.stripe.com/v3/",
}


def manage(*args, **env):
    # The browser plugin sets DJANGO_ALLOW_ASYNC_UNSAFE for the test process (Playwright's event
    # loop); a production start-up never has it, and check --deploy rightly fails on it (async.E001).
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_the_documented_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


def test_missing_secrets_stop_start_up_with_a_clear_message():
    env = {k: v for k, v in PRODUCTION.items() if k not in {"SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "STRIPE_WEBHOOK_SECRET" in result.stderr
    assert "STRIPE_SECRET_KEY," not in result.stderr  # only what is missing is named


def test_development_defaults_need_no_environment():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_check_deploy_warns_when_throttles_would_live_in_a_process_local_cache():
    """Throttles split across gunicorn workers with locmem: shop.W001 under --deploy."""
    for cache_url in ["locmemcache://shop", "dummycache://", "filecache:///tmp/shop-cache"]:
        result = manage("check", "--deploy", **{**PRODUCTION, "CACHE_URL": cache_url})
        assert "shop.W001" in result.stderr + result.stdout, cache_url
        failing = manage("check", "--deploy", "--fail-level", "WARNING",
                         **{**PRODUCTION, "CACHE_URL": cache_url})  # fmt: skip
        assert failing.returncode != 0
    result = manage("check", "--deploy", **{**PRODUCTION, "DEBUG": "true",
                                            "CACHE_URL": "locmemcache://shop"})  # fmt: skip
    assert "shop.W001" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_API_BASE", "http://api.stripe.com"),
        ("STRIPE_API_BASE", "https://127.0.0.1:8420"),
        ("STRIPE_API_BASE", "https://localhost"),
        ("STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/"),
        ("STRIPE_JS_URL", "https://[::1]/v3/"),
    ],
)
def test_issue10_6_plain_http_or_loopback_stripe_stops_start_up_with_debug_off(name, value):
    result = manage("check", **{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert name in result.stderr and value in result.stderr
    assert "https://api.stripe.com" in result.stderr  # says what to use instead


def test_issue10_6_development_addresses_are_fine_with_debug_on():
    result = manage("check", DEBUG="true", STRIPE_API_BASE="http://127.0.0.1:8420")
    assert result.returncode == 0, result.stderr


def sweep_timing(**env) -> str:
    code = "from django.conf import settings as s; "
    code += "print(s.RECONCILE_INTERVAL_SECONDS, s.RECONCILE_AFTER_SECONDS)"
    result = manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after the shell's auto-import note


def test_issue9_15_a_development_demo_recovers_within_a_minute_or_two_production_stays_gentle():
    assert sweep_timing(DEBUG="true") == "60 60"
    assert sweep_timing(**PRODUCTION) == "300 600"
