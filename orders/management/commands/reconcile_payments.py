import datetime as dt

from django.core.management.base import BaseCommand

from orders.payments.reconciliation import reconcile_payments


class Command(BaseCommand):
    help = (
        "Re-read orders stuck in payment from Stripe, queue paid orders not yet extended and "
        "stored webhook events not yet processed (what the periodic job does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="Only orders and events untouched for this many seconds (default: the setting).",
        )

    def handle(self, *args, older_than=None, **options):
        report = reconcile_payments(
            older_than=dt.timedelta(seconds=older_than) if older_than is not None else None
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Synced {report.orders_synced} orders, re-queued {report.orders_requeued} "
                f"extensions, {report.events_requeued} webhook events and {report.mails_requeued} "
                f"mails; {report.errors} errors."
            )
        )
