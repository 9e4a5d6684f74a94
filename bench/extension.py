"""Where the time of one extension goes: ``fulfil_order`` taken apart, in-process (issue 15).

    .venv/bin/python bench/extension.py [--orders 300]

No worker and no HTTP: this process plays the worker, on PostgreSQL with Redis as the broker
(nothing consumes the queue). ``--orders`` paid Cloud orders are made as bench data (the order
rows set to paid directly, no Stripe: ``bench/fulfilment.py`` measures the real path). Then,
per order, what one pool process does for one ``fulfil_order`` task:

- the database connection as Celery's Django fix-up leaves it between tasks (closed after
  every task unless ``CELERY_DB_REUSE_MAX`` is set: then a new connection per task);
- the task body, ``fulfil_order.run(order_id)``, every SQL statement timed by a Django
  ``execute_wrapper`` and labelled by its kind (``COMMIT`` included);
- the publishes it causes (the follow-up mail tasks, to Redis), timed around kombu;
- what is left: Python (ORM, date arithmetic, Celery's task body).

Prints the median and the mean per extension of each part, and the statements per extension.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="cProfile the task bodies instead")
    args = parser.parse_args()

    with (
        common.workdir() as tmp,
        common.fresh_database("bench_extension") as database,
        common.fresh_redis() as redis,
    ):
        env = common.environment(database=database, workdir=Path(tmp))
        common.setup_django(env)
        orders = paid_orders(args.orders)
        print(
            f"{common.machine()}; PostgreSQL, Redis (no worker); {len(orders) - 1} extensions"
            f" (one more to warm up); CELERY_DB_REUSE_MAX={reuse_connections() or 'unset'}"
        )
        if args.profile:
            profile(orders)
            return
        parts, statements = measure(orders)
        print(f"after the run: {common.load_average()}")
        rows = [
            [
                name,
                f"{statistics.median(values) * 1000:.2f}",
                f"{statistics.fmean(values) * 1000:.2f}",
            ]
            for name, values in parts.items()
        ]
        print(common.table(["part of one extension", "median ms", "mean ms"], rows))
        print()
        print(
            common.table(
                ["SQL statement", "per extension"],
                [[kind, f"{count / (len(orders) - 1):g}"] for kind, count in statements.items()],
            )
        )
        print(f"tasks queued in Redis: {common.queued(redis)}")


def paid_orders(count: int) -> list[int]:
    import datetime as dt
    import uuid

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from licenses.demo import load_demo_data
    from orders.models import Order

    load_demo_data()
    user = get_user_model().objects.create_user(
        username="bench@example.com", email="bench@example.com"
    )
    expires_on = timezone.localdate() + dt.timedelta(days=20)
    ids = []
    for _ in range(count):
        serial = f"MAMO-{uuid.uuid4().hex[:14].upper()}"
        order = common.cloud_renewal(user, serial=serial, expires_on=expires_on)
        ids.append(order.pk)
    # Bench data: paid as mark_paid leaves an order (its fulfil task is what we run below).
    Order.objects.filter(pk__in=ids).update(
        status=Order.Status.PAID, paid_at=timezone.now(), email=user.email
    )
    return ids


def measure(order_ids: list[int]):
    from django.db import connection
    from kombu import messaging

    from orders.tasks import fulfil_order

    parts: dict[str, list[float]] = defaultdict(list)
    statements: dict[str, int] = defaultdict(int)
    current: dict[str, float] = defaultdict(float)

    def timed_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = label(sql)
            current[f"SQL {kind}"] += time.perf_counter() - started
            statements[kind] += 1

    publish = messaging.Producer.publish

    def timed_publish(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return publish(self, *args, **kwargs)
        finally:
            current["publish (Redis)"] += time.perf_counter() - started

    commit = connection.commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return commit()
        finally:
            current["SQL COMMIT"] += time.perf_counter() - started
            statements["COMMIT"] += 1

    fulfil_order.run(order_ids[0])  # warm up: imports, first connections (not counted)
    messaging.Producer.publish = timed_publish
    connection.commit = timed_commit
    try:
        with connection.execute_wrapper(timed_sql):
            for order_id in order_ids[1:]:
                current.clear()
                if not reuse_connections():
                    connection.close()  # what Celery's fix-up does around every task
                started = time.perf_counter()
                connection.ensure_connection()
                current["connect to PostgreSQL"] += time.perf_counter() - started
                started = time.perf_counter()
                assert fulfil_order.run(order_id)
                total = time.perf_counter() - started
                current["Python (ORM, Celery's apply_async, task body)"] = total - sum(
                    value for key, value in current.items() if key != "connect to PostgreSQL"
                )
                current["whole task body"] = total
                for key, value in current.items():
                    parts[key].append(value)
    finally:
        messaging.Producer.publish = publish
        del connection.commit
    order = ["connect to PostgreSQL", *sorted(k for k in parts if k.startswith("SQL"))]
    order += ["publish (Redis)", "Python (ORM, Celery's apply_async, task body)", "whole task body"]
    return {k: parts[k] for k in order if k in parts}, dict(statements)


def profile(order_ids: list[int]) -> None:
    """The task bodies under cProfile: the 25 functions with the most time of their own."""
    import cProfile
    import pstats

    from orders.tasks import fulfil_order

    fulfil_order.run(order_ids[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for order_id in order_ids[1:]:
        fulfil_order.run(order_id)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def reuse_connections() -> int | None:
    from django.conf import settings

    return getattr(settings, "CELERY_DB_REUSE_MAX", None)


def label(sql: str) -> str:
    """``SELECT orders_order FOR UPDATE``: the verb, the first table, the lock."""
    words = sql.replace('"', "").split()
    verb = words[0].upper()
    after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(verb)
    upper = [word.upper() for word in words]
    table = words[upper.index(after) + 1] if after in upper else ""
    joins = upper.count("JOIN")
    lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb} {table}{f' (+{joins} joined)' if joins else ''}{lock}".strip()


if __name__ == "__main__":
    common.run(main)
