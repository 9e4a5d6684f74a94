"""``python manage.py run_auto_renewals [--date YYYY-MM-DD]``: the automatic-renewal sweep for a
day (today by default), the same service beat runs daily. Operators catch up a day the beat
missed by passing its date; nothing is charged twice."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.renewals.services import sweep_auto_renewals


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            f"--date must be a date as YYYY-MM-DD, e.g. 2026-07-01 (got {value!r})."
        ) from error


class Command(BaseCommand):
    help = "Queue the automatic-renewal charges and notices due on a day (default: today)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to run the sweep for, as YYYY-MM-DD.")

    def handle(self, *args, **options):
        on = _date(options["date"]) if options["date"] else timezone.localdate()
        result = sweep_auto_renewals(on=on)
        self.stdout.write(
            f"{on.isoformat()}: {result.charges} automatic charges and "
            f"{result.notices} notices queued."
        )
