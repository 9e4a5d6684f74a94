import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from licenses.reserves import switch_reserve_licenses


class Command(BaseCommand):
    help = (
        "Queue the switch of the Windows reserve licenses whose expiry date has come and the mail "
        "to Mac customers on their switch day (what the periodic job does; workers do the work; "
        "safe to rerun, catches up missed days)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            default=None,
            help="Run as of this day (YYYY-MM-DD); default: today.",
        )

    def handle(self, *args, date=None, **options):
        try:
            today = dt.date.fromisoformat(date) if date else None
        except ValueError as error:
            raise CommandError(f"--date must look like 2026-12-31, not {date!r}.") from error
        report = switch_reserve_licenses(today=today)
        self.stdout.write(
            self.style.SUCCESS(
                f"Queued {report.switches_queued} reserve license switches and "
                f"{report.mails_queued} switch-day mails."
            )
        )
