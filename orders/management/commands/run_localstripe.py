"""Run localstripe, the fake Stripe server used by ``make run`` and by the tests.

localstripe's own CLI binds ``::`` (every interface) and reloads ``/tmp/localstripe.pickle``; this
command serves the same aiohttp app on loopback only, from an empty store, and registers our
webhook endpoint before the first request is accepted.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

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
        try:
            from aiohttp import web
            from localstripe import server, webhooks
        except ImportError as exc:
            raise CommandError("localstripe is not installed: pip install -e '.[dev]'") from exc

        # Each write pickles the whole store to a fixed /tmp path that a dev server and a test
        # session would share (or that another user owns); nothing reads it since we start empty.
        server.store.dump_to_disk = lambda: None

        async def register_webhook(app):
            # on_startup runs before the socket accepts requests, so no event is missed.
            webhooks.register_webhook(WEBHOOK_ID, webhook_url, settings.STRIPE_WEBHOOK_SECRET, None)

        if webhook_url:
            server.app.on_startup.append(register_webhook)
        self.stdout.write(f"localstripe on http://{host}:{port}, webhooks to {webhook_url or '-'}")
        web.run_app(server.app, host=host, port=port, print=None)
