"""The daily expiry-reminder sweep over a million licenses in PostgreSQL (issue 12, DESIGN 10).

    .venv/bin/python bench/reminders.py [--licenses 1000000] [--spread-days 865]
                                        [--history-days 365]

1. Build: the demo catalog, ``--licenses`` / 5 customers (5 % opted out of reminders, 20 % with
   English mails) and ``--licenses`` licenses, written by PostgreSQL itself
   (``INSERT … SELECT … FROM generate_series``; Python never loops over the rows). Expiry dates
   are spread evenly over ``--spread-days`` days ending 364 days ahead (by default from 500 days
   ago: about 1,160 per day; ``--spread-days 400``: about 2,500 per day, every license of a
   one-year shop expiring within the year or just before it); 10 % of the
   licenses are unregistered, 15 % on automatic renewal, 0.5 % revoked. The reminders the past
   ``--history-days`` daily sweeps would have sent are in ``ReminderSent`` (about two million
   rows for a year), and 10 % of today's are marked sent already (a sweep interrupted earlier
   in the day). Then ``ANALYZE``.
2. Sweep: ``sweep_reminders`` for the day, exactly as beat runs it: one query selects the due
   reminders, one ``queue_reminder_batch`` task per ``REMINDER_BATCH_SIZE`` of them is published
   to Redis (no worker runs, so every queued task is still in the queue to count). Printed: its
   time, every SQL query it ran with its time, the mails and batch tasks queued, the plan.
3. Fan-out: what a worker does with one batch, ``queue_reminder_batch`` run here in-process: it
   publishes one ``send_expiry_reminder`` task per mail; the time per mail.
4. Again the same day, twice: before any worker ran (it queues the same mails again; the worker
   sends each once, the unique row refusing the duplicate), and after the workers sent them
   (their ``ReminderSent`` rows inserted as the worker would): nothing is queued.

Fresh PostgreSQL database ``bench_reminders`` (dropped at the end), Redis DB from
``BENCH_REDIS`` (flushed before and after), DEBUG off, as in production.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import tempfile
import time
from pathlib import Path

import common

SLOW_QUERY_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=1_000_000)
    parser.add_argument(
        "--spread-days", type=int, default=865, help="expiry dates over so many days"
    )
    parser.add_argument("--history-days", type=int, default=365, help="past sweeps' reminders")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        common.fresh_database("bench_reminders") as database,
        common.fresh_redis() as redis,
    ):
        env = common.environment(database=database, workdir=Path(tmp))
        common.setup_django(env)
        from django.utils import timezone

        on = timezone.localdate()
        print(f"{common.machine()}; PostgreSQL, Redis; sweep for {on.isoformat()}")

        timings = build(
            licenses=args.licenses, spread=args.spread_days, history_days=args.history_days, on=on
        )
        for step, seconds in timings:
            print(f"build: {step:<52} {seconds:6.1f} s")
        print(f"build: {'total':<52} {sum(s for _step, s in timings):6.1f} s")
        print(common.load_average())

        first = measure_sweep(on, redis, label="sweep")
        print_plan(on)
        measure_fan_out(redis)
        again = measure_sweep(on, redis, label="same day again, before any worker ran")
        mark_sent(on)
        after = measure_sweep(on, redis, label="same day again, after the workers sent them")
        print()
        print(
            common.table(
                ["sweep", "seconds", "SQL queries", "slowest ms", "mails queued", "batch tasks"],
                [first, again, after],
            )
        )
        print(f"after the run: {common.load_average()}")


# --- Building a million licenses ---------------------------------------------------------------


def build(*, licenses: int, spread: int, history_days: int, on: dt.date) -> list[tuple[str, float]]:
    from django.db import connection

    from licenses.demo import load_demo_data
    from licenses.models import Product

    customers = max(licenses // 5, 1)
    timings = []

    def step(name: str, sql: str, params: list) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        timings.append((name, time.monotonic() - started))

    load_demo_data(today=on)
    products = list(
        Product.objects.filter(sellable=True, renewable=True).values_list("pk", flat=True)
    )
    # One scale of ids: the demo rows come first, the bench rows after them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM auth_user")
        first_user = cursor.fetchone()[0] + 1

    step(
        f"{customers:,} customers",
        """
        INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name,
                               email, is_staff, is_active, date_joined)
        SELECT %s + n, '!', false, 'bench' || n || '@example.com', '花子', '山田',
               'bench' || n || '@example.com', false, true, now()
        FROM generate_series(0, %s - 1) AS n
        """,
        [first_user, customers],
    )
    step(
        "their preferences (5 % opted out, 20 % English)",
        """
        INSERT INTO licenses_customerpreferences (user_id, language, reminders_opt_out,
                                                  reminders_opted_out_at, updated_at)
        SELECT %s + n, CASE WHEN n %% 5 = 1 THEN 'en' ELSE 'ja' END, n %% 20 = 3,
               CASE WHEN n %% 20 = 3 THEN now() END, now()
        FROM generate_series(0, %s - 1) AS n
        """,
        [first_user, customers],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('auth_user', 'id'), (SELECT MAX(id) FROM auth_user))"
        )
    step(
        f"{licenses:,} licenses",
        """
        INSERT INTO licenses_license (serial, owner_id, product_id, seats, starts_on, expires_on,
                                      auto_renew, revoked_at, created_at, updated_at)
        SELECT 'BNCH-' || to_char(n / 100000000, 'FM0000') || '-'
                       || to_char(n / 10000 %% 10000, 'FM0000') || '-'
                       || to_char(n %% 10000, 'FM0000'),
               CASE WHEN h %% 10 = 9 THEN NULL ELSE %s + (h / 10) %% %s END,
               (%s::bigint[])[1 + (h / 17) %% %s],
               3,
               day - 365,
               day,
               (h / 7) %% 20 IN (2, 5, 11),
               CASE WHEN (h / 13) %% 200 = 7 THEN now() END,
               now(), now()
        FROM generate_series(0, %s - 1) AS n,
             -- The expiry day is a function of n; the other properties come from a hash of n,
             -- so that they are independent of the day (n %% 10 would not be).
             LATERAL (SELECT %s::date + 364 - %s + ((n::bigint * 7919) %% %s)::int + 1 AS day,
                             hashint4(n) & 2147483647 AS h) AS derived
        """,
        [first_user, customers, products, len(products), licenses, on, spread, spread],
    )
    step(
        f"reminders of the past {history_days} days' sweeps",
        """
        INSERT INTO reminders_remindersent (license_id, expires_on, offset_days, "to", language,
                                            sent_at)
        SELECT l.id, l.expires_on, o.days, u.email, 'ja', (l.expires_on - o.days)::timestamptz
        FROM licenses_license l
        JOIN auth_user u ON u.id = l.owner_id
        CROSS JOIN unnest(%s::int[]) AS o(days)
        WHERE l.expires_on - o.days BETWEEN %s::date - %s AND %s::date - 1
          AND NOT l.auto_renew AND l.revoked_at IS NULL
        """,
        [list(_offsets()), on, history_days, on],
    )
    step(
        "10 % of today's marked sent (an interrupted sweep)",
        """
        INSERT INTO reminders_remindersent (license_id, expires_on, offset_days, "to", language,
                                            sent_at)
        SELECT l.id, l.expires_on, o.days, u.email, 'ja', now()
        FROM licenses_license l
        JOIN auth_user u ON u.id = l.owner_id
        CROSS JOIN unnest(%s::int[]) AS o(days)
        WHERE l.expires_on = %s::date + o.days AND (hashint8(l.id) & 2147483647) %% 10 = 0
          AND NOT l.auto_renew AND l.revoked_at IS NULL
        """,
        [list(_offsets()), on],
    )
    step("ANALYZE", "ANALYZE", [])
    with connection.cursor() as cursor:
        for table in ("auth_user", "licenses_license", "reminders_remindersent"):
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608  (our table names)
            print(f"rows: {table:<24} {cursor.fetchone()[0]:>10,}")
    return timings


def _offsets() -> list[int]:
    from django.conf import settings

    return settings.REMINDER_OFFSETS_DAYS


# --- Measuring the sweep ---------------------------------------------------------------------------


def measure_sweep(on: dt.date, redis, *, label: str) -> list:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from licenses.reminders.services import sweep_reminders

    before = common.queued(redis)
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        result = sweep_reminders(on=on)
    seconds = time.monotonic() - started
    tasks = common.queued(redis) - before
    queued = result.queued
    print(
        f"\n{label}: {seconds:.2f} s, {len(queries)} SQL queries, {queued} mails queued "
        f"in {tasks} batch tasks"
    )
    for query in queries.captured_queries:
        ms = float(query["time"]) * 1000
        marker = "SLOW " if ms >= SLOW_QUERY_MS else ""
        print(f"  {marker}{ms:8.1f} ms  {' '.join(query['sql'].split())[:160]}…")
    assert result.batches == tasks, (result, tasks)
    assert result.failed == 0, result
    slowest = max((float(q["time"]) * 1000 for q in queries.captured_queries), default=0)
    return [label, f"{seconds:.2f}", len(queries), f"{slowest:.1f}", queued, tasks]


def measure_fan_out(redis) -> None:
    """Run the first queued batch task here, as a worker would: it queues the mail tasks."""
    import json

    from licenses.reminders.services import queue_reminder_batch

    message = json.loads(redis.lindex("celery", -1))  # the oldest: LPUSH adds on the left
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    before = common.queued(redis)
    started = time.monotonic()
    count = queue_reminder_batch(*args)
    seconds = time.monotonic() - started
    assert common.queued(redis) - before == count
    print(
        f"\nfan-out of one batch (what a worker does): {count} mail tasks queued in "
        f"{seconds:.2f} s, {seconds / count * 1000:.2f} ms per mail"
    )
    redis.delete("celery")


def print_plan(on: dt.date) -> None:
    from licenses.reminders.selectors import due_reminders

    print("\nquery plan (EXPLAIN ANALYZE, second execution):")
    due_reminders(on=on).explain(analyze=True)
    for line in due_reminders(on=on).explain(analyze=True, buffers=True).splitlines():
        print(f"  {line}")


def mark_sent(on: dt.date) -> None:
    """What the workers leave behind once they sent the day's reminders: their records."""
    from licenses.reminders.models import ReminderSent
    from licenses.reminders.selectors import due_reminders

    due = list(due_reminders(on=on))
    ReminderSent.objects.bulk_create(
        [
            ReminderSent(
                license_id=license_id,
                expires_on=expires_on,
                offset_days=offset,
                to="sent@example.com",
                language="ja",
            )
            for license_id, expires_on, offset in due
        ],
        batch_size=5000,
    )
    print(f"\nworkers' records of the {len(due)} reminders inserted")


if __name__ == "__main__":
    common.run(main)
