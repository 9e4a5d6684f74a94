"""``python manage.py send_expiry_reminders [--date YYYY-MM-DD]``: the daily reminder sweep for a
day (today by default); operators catch up a day the beat missed by passing its date."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from licenses.reminders.services import sweep_reminders


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            f"--date must be a date as YYYY-MM-DD, e.g. 2026-07-01 (got {value!r})."
        ) from error


class Command(BaseCommand):
    help = "Queue the expiry reminders due on a day (default: today); each goes out once."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to run the sweep for, as YYYY-MM-DD.")

    def handle(self, *args, **options):
        on = _date(options["date"]) if options["date"] else timezone.localdate()
        result = sweep_reminders(on=on)
        self.stdout.write(f"{on.isoformat()}: {result.queued} expiry reminders queued.")
        if result.failed:
            raise CommandError(
                f"{result.failed} reminders could not be queued (is the broker up?). "
                f"Run the command again with --date {on.isoformat()}: nothing is sent twice."
            )
