"""Storefront pages vs the floor page and a bare Django view, and their SQL query counts (DESIGN 10).

    .venv/bin/python bench/storefront.py [--requests 3000] [--concurrency 16] [--workers 4]

One gunicorn (sync workers, DEBUG off, PostgreSQL) serves the shop, the bare view
``/bench/bare/`` and the floor page ``/bench/floor/page/`` (``base.html`` for a signed-in
customer, no other query; ``bench/floors.py``). A customer with 50 licenses (demo catalog,
Mamori Cloud, one paid order each) and a twin pack is signed in; the load generator GETs each
page with that session cookie, in rounds that alternate between the pages so drift hits them
alike. Budget: every page at least 0.5 x the floor page's requests/s, p99 under 50 ms.

Query counts come from Django's test client in this process (CaptureQueriesContext), for a
customer with 1 and one with 50 licenses (and as many orders): a page whose count grows has
an N+1.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import common

ROUNDS = 3
BUDGET = 0.5
P99_MS = 50
LICENSES = 50
FLOOR = "floor page"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per page")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--max-seconds", type=float, default=20, help="per round and page")
    args = parser.parse_args()

    with common.workdir() as tmp, common.fresh_database("bench_storefront") as database:
        env = common.environment(database=database, workdir=Path(tmp))
        common.setup_django(env, collectstatic=True)
        one, many = customer(licenses=1), customer(licenses=LICENSES)
        pages = {"bare view": "/bench/bare/", FLOOR: "/bench/floor/page/", **customer_pages(many)}
        counts = query_counts(one, many)
        cookie = session_cookie(many)

        with common.Processes(workdir=Path(tmp), env=env) as processes:
            port = common.gunicorn(processes, workers=args.workers)
            print(
                f"{common.machine()}; gunicorn --workers {args.workers} (sync), PostgreSQL; "
                f"{args.concurrency} client connections, signed in as a customer with "
                f"{LICENSES + 1} licenses and {LICENSES} orders"
            )
            requests = {
                name: common.http_request("GET", path, headers={"Cookie": cookie})
                for name, path in pages.items()
            }
            for request in requests.values():  # warm up: connections, templates
                common.load(port, lambda i, r=request: r, count=100, concurrency=8, max_seconds=30)
            results = {name: common.Load() for name in pages}
            per_round = -(-args.requests // ROUNDS)
            for _ in range(ROUNDS):
                for name, request in requests.items():
                    results[name].add(
                        common.load(
                            port,
                            lambda i, r=request: r,
                            count=per_round,
                            concurrency=args.concurrency,
                            max_seconds=args.max_seconds,
                        )
                    )
            processes.check("gunicorn")
            processes.report_errors("gunicorn", results.values())
            print(f"after the run: {common.load_average()}")

        bare, floor = results["bare view"].per_second, results[FLOOR].per_second
        rows = []
        for name, result in results.items():
            ratio = result.per_second / floor
            p99 = common.percentile(result.latencies, 99)
            yardstick = name in ("bare view", FLOOR)
            rows.append([
                name, len(result.latencies), result.errors, f"{result.per_second:.0f}",
                common.ms(common.percentile(result.latencies, 50)), common.ms(p99),
                f"{result.per_second / bare:.2f}", f"{ratio:.2f}",
                "-" if yardstick else ("yes" if ratio >= BUDGET and p99 * 1000 < P99_MS else "NO"),
            ])  # fmt: skip
        headers = ["page", "ok", "errors", "req/s", "p50 ms", "p99 ms", "vs bare", "vs floor"]
        print(common.table([*headers, f"≥ {BUDGET} floor, p99 < {P99_MS} ms"], rows))
        print()
        print(
            common.table(
                ["page (signed in)", "SQL queries, 1 license", f"{LICENSES} licenses", "fixed"],
                [[page, a, b, "yes" if a == b else "NO"] for page, (a, b) in counts.items()],
            )
        )


def customer_pages(user) -> dict[str, str]:
    """The customer pages of DESIGN 10 for ``user`` (label: path)."""
    first = user.licenses.order_by("serial").first()
    twin = user.licenses.get(product__code="mp-2013-twin")
    order = user.orders.order_by("number").first()
    return {
        "/": "/",
        "/help/": "/help/",
        "/licenses/": "/licenses/",
        "/licenses/<serial>/": f"/licenses/{first.serial}/",
        "/renew/<serial>/ (upgrades)": f"/renew/{first.serial}/",
        "/renew/<serial>/ (twin pack)": f"/renew/{twin.serial}/",
        "/orders/": "/orders/",
        "/orders/<number>/": f"/orders/{order.number}/",
    }


def customer(*, licenses: int):
    """A customer with ``licenses`` Mamori Cloud licenses and one paid order for each, plus a
    twin pack (the choice page's K2 alternatives), its ledger one row longer."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from licenses.demo import load_demo_data
    from licenses.models import Product
    from licenses.services import create_license
    from orders.models import Order

    load_demo_data()
    user = get_user_model().objects.create_user(
        username=f"bench{licenses}@example.com", email=f"bench{licenses}@example.com"
    )
    today = timezone.localdate()
    for n in range(licenses):
        expires_on = today + dt.timedelta(days=20 + 7 * n)
        serial = f"MAMO-B{licenses:03d}-{n:04d}-CLOD"
        order = common.cloud_renewal(user, serial=serial, expires_on=expires_on)
        # Bench data, not a transition: the order list shows orders past the draft state.
        Order.objects.filter(pk=order.pk).update(status=Order.Status.FULFILLED)
    create_license(
        serial=f"MAMO-B{licenses:03d}-TWIN-PACK",
        product=Product.objects.get(code="mp-2013-twin"),
        owner=user,
        starts_on=today - dt.timedelta(days=355),
        expires_on=today + dt.timedelta(days=10),
    )
    return user


def query_counts(one, many) -> dict[str, tuple[int, int]]:
    """SQL queries per page for the customer with one license and the one with many."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {}
    for user in (one, many):
        client = Client()
        client.force_login(user)
        for label, page in customer_pages(user).items():
            client.get(page)  # first request: session and lazy one-offs
            with CaptureQueriesContext(connection) as queries:
                response = client.get(page)
            assert response.status_code == 200, (page, response.status_code)
            counts.setdefault(label, []).append(len(queries))
    return {page: (a, b) for page, (a, b) in counts.items()}


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


if __name__ == "__main__":
    common.run(main)
