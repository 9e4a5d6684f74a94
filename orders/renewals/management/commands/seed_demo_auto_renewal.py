"""``python manage.py seed_demo_auto_renewal [--wait SECONDS]``: the demo license with automatic
renewal on and a saved test card (``orders/renewals/demo.py``); needs Stripe (localstripe) up."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.payments.gateway import GatewayUnavailable
from orders.renewals.demo import DEMO_SERIAL, load_demo_auto_renewal
from orders.renewals.selectors import charge_date


class Command(BaseCommand):
    help = "Switch the demo license's automatic renewal on with a saved test card (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait", type=float, default=0, help="Seconds to wait for Stripe to answer."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo_auto_renewal is for the demo; it is refused when DEBUG is off."
            )
        deadline = time.monotonic() + options["wait"]
        while True:
            try:
                renewal = load_demo_auto_renewal()
                break
            except GatewayUnavailable as error:
                if time.monotonic() >= deadline:
                    raise CommandError(f"Stripe did not answer: {error.message}") from error
                time.sleep(1)
        if renewal is None:
            raise CommandError("No demo data: run manage.py seed_demo first.")
        day = charge_date(expires_on=renewal.license.expires_on)
        self.stdout.write(
            f"{DEMO_SERIAL} renews automatically with {renewal.card}; charged on {day} "
            f"(or now: manage.py run_auto_renewals --date {day.isoformat()})."
        )
