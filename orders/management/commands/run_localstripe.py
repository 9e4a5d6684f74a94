"""Run localstripe, the fake Stripe server used by ``make run``, the tests and the benchmarks.

localstripe's own CLI binds ``::`` (every interface) and reloads ``/tmp/localstripe.pickle``; this
command serves the same aiohttp app on loopback only, from an empty store, taught what today's
Stripe API does (``orders.payments.localstripe_shim``), and registers our webhook endpoint before
the first request is accepted.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

try:  # localstripe is a development dependency (pip install -e '.[dev]')
    from aiohttp import web
    from localstripe import server, webhooks

    from orders.payments import localstripe_shim
except ImportError:  # pragma: no cover - production installs have no localstripe
    localstripe_shim = None

WEBHOOK_ID = "shop"
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8000/stripe/webhook/"


class Command(BaseCommand):
    help = "Run localstripe (fake Stripe API and stripe.js) on loopback for development and tests."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=urlsplit(settings.STRIPE_API_BASE).port or 8420
        )
        parser.add_argument(
            "--webhook-url",
            default=DEFAULT_WEBHOOK_URL,
            help="Where localstripe posts events, signed with STRIPE_WEBHOOK_SECRET; '' for none.",
        )

    def handle(self, *args, host, port, webhook_url, **options):
        if localstripe_shim is None:
            raise CommandError("localstripe is not installed: pip install -e '.[dev]'")
        localstripe_shim.install(api_version=settings.STRIPE_API_VERSION)

        async def register_webhook(app):
            # on_startup runs before the socket accepts requests, so no event is missed. The
            # endpoint is "registered at" STRIPE_API_VERSION: the shim renders events at it.
            webhooks.register_webhook(WEBHOOK_ID, webhook_url, settings.STRIPE_WEBHOOK_SECRET, None)

        if webhook_url:
            server.app.on_startup.append(register_webhook)
        self.stdout.write(
            f"localstripe on http://{host}:{port} (API {settings.STRIPE_API_VERSION}), "
            f"webhooks to {webhook_url or '-'}"
        )
        web.run_app(server.app, host=host, port=port, print=None)
