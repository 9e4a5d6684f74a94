"""Production settings: secrets only from the environment, ``check --deploy`` clean (DESIGN 9)."""

import os
import subprocess
import sys
from pathlib import Path

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
