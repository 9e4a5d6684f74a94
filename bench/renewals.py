"""The daily automatic-renewal sweep over a million licenses in PostgreSQL (issue 11, DESIGN 10:
"the automatic-renewal and reserve sweeps likewise", under 60 s).

    .venv/bin/python bench/renewals.py [--licenses 1000000] [--spread-days 865]

1. Build: the reminder benchmark's million licenses (``bench/reminders.py`` ``build``: 15 % on
   automatic renewal, expiry dates spread over ``--spread-days``), then for every license on
   automatic renewal last year's automatic order (``fulfilled``, for its expiry date a year ago)
   and, for half of those already in today's charge window, this year's (``fulfilled``: a run
   earlier in the day charged them). Then ``ANALYZE``.
2. Sweep: ``sweep_auto_renewals`` for the day, exactly as beat runs it: the query of the due
   charges, the query of the due notices, one task per license published to Redis (no worker
   runs). Printed: its time, every SQL query with its time, the tasks queued, both plans.

Fresh PostgreSQL database ``bench_renewals`` (dropped at the end), Redis DB from ``BENCH_REDIS``
(flushed before and after), DEBUG off, as in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import common
import reminders

SLOW_QUERY_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=1_000_000)
    parser.add_argument("--spread-days", type=int, default=865)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        common.fresh_database("bench_renewals") as database,
        common.fresh_redis() as redis,
    ):
        env = common.environment(database=database, workdir=Path(tmp))
        common.setup_django(env)
        from django.utils import timezone

        on = timezone.localdate()
        print(f"{common.machine()}; PostgreSQL, Redis; automatic renewals for {on.isoformat()}")
        timings = reminders.build(
            licenses=args.licenses, spread=args.spread_days, history_days=0, on=on
        )
        timings += build_orders(on=on)
        for step, seconds in timings:
            print(f"build: {step:<52} {seconds:6.1f} s")
        print(common.load_average())

        first = measure_sweep(on, redis, label="sweep")
        print_plans(on)
        again = measure_sweep(on, redis, label="same day again (a second beat)")
        print()
        print(
            common.table(
                [
                    "sweep",
                    "seconds",
                    "SQL queries",
                    "slowest ms",
                    "charges queued",
                    "notices queued",
                ],
                [first, again],
            )
        )
        print(f"after the run: {common.load_average()}")


def build_orders(*, on) -> list[tuple[str, float]]:
    from django.conf import settings
    from django.db import connection

    timings = []

    def step(name: str, sql: str, params: list) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        timings.append((name, time.monotonic() - started))

    columns = """(number, customer_id, email, license_id, from_product_id, product_id, kind,
                  renews_expiry, auto_renew, path_kind, term_years, price_id, price_kind, amount,
                  tax, tax_rate, status, language, terms_versions, stripe_customer_id,
                  stripe_setup_intent, amount_refunded, attention, attention_note, created_at,
                  updated_at, paid_at, fulfilled_at)"""
    values = """l.owner_id, '', l.id, l.product_id, l.product_id, 'automatic', {expiry}, false,
                'same', 1, (SELECT MIN(p.id) FROM licenses_price p WHERE p.product_id = l.product_id),
                'renewal', 4790, 435, 10, 'fulfilled', 'ja', '{{}}', '', '', 0, '', '', now(),
                now(), now(), now()"""
    step(
        "last year's automatic orders",
        f"""
        INSERT INTO orders_order {columns}
        SELECT 'A' || l.id, {values.format(expiry="l.expires_on - 365")}
        FROM licenses_license l WHERE l.auto_renew AND l.owner_id IS NOT NULL
        """,  # noqa: S608  (our SQL)
        [],
    )
    step(
        "half of today's window charged already",
        f"""
        INSERT INTO orders_order {columns}
        SELECT 'B' || l.id, {values.format(expiry="l.expires_on")}
        FROM licenses_license l
        WHERE l.auto_renew AND l.owner_id IS NOT NULL AND l.id %% 2 = 0
          AND l.expires_on BETWEEN %s::date AND %s::date + %s
        """,  # noqa: S608  (our SQL)
        [on, on, settings.AUTO_RENEW_DAYS_BEFORE],
    )
    step("ANALYZE", "ANALYZE", [])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order")
        print(f"rows: {'orders_order':<24} {cursor.fetchone()[0]:>10,}")
    return timings


def measure_sweep(on, redis, *, label: str) -> list:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.renewals.services import sweep_auto_renewals

    before = redis.llen("celery")
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        result = sweep_auto_renewals(on=on)
    seconds = time.monotonic() - started
    tasks = redis.llen("celery") - before
    print(
        f"\n{label}: {seconds:.2f} s, {len(queries)} SQL queries, {result.charges} charges and "
        f"{result.notices} notices queued ({tasks} tasks)"
    )
    for query in queries.captured_queries:
        ms = float(query["time"]) * 1000
        marker = "SLOW " if ms >= SLOW_QUERY_MS else ""
        print(f"  {marker}{ms:8.1f} ms  {' '.join(query['sql'].split())[:160]}…")
    assert tasks == result.charges + result.notices, (result, tasks)
    slowest = max((float(q["time"]) * 1000 for q in queries.captured_queries), default=0)
    return [label, f"{seconds:.2f}", len(queries), f"{slowest:.1f}", result.charges, result.notices]


def print_plans(on) -> None:
    from django.conf import settings
    from django.db.models import Exists, OuterRef

    from licenses.models import License
    from orders.models import Order
    from orders.renewals.selectors import SETTLED

    settled = Order.objects.filter(
        license=OuterRef("pk"), kind="automatic", renews_expiry=OuterRef("expires_on"),
        status__in=SETTLED,
    )  # fmt: skip
    query = License.objects.filter(
        auto_renew=True, revoked_at=None, owner__isnull=False, expires_on__gte=on,
        expires_on__lte=on + dt.timedelta(days=settings.AUTO_RENEW_DAYS_BEFORE),
    ).exclude(Exists(settled))  # fmt: skip
    print("\ndue charges, query plan (EXPLAIN ANALYZE):")
    for line in query.explain(analyze=True, buffers=True).splitlines():
        print(f"  {line}")


if __name__ == "__main__":
    common.run(main)
