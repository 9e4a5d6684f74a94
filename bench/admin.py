"""The license admin over a million licenses in PostgreSQL (issue 15, DESIGN 10).

    .venv/bin/python bench/admin.py [--licenses 1000000] [--requests 20]

1. Build: the customers and licenses of ``bench/reminders.py`` (PostgreSQL writes them itself,
   ``INSERT … SELECT … FROM generate_series``; no reminder history), one ledger row per license
   (its creation) and a longer ledger (``LEDGER`` rows) for the license whose page is measured;
   then ``ANALYZE``.
2. A signed-in superuser GETs, through Django's test client in this process (DEBUG off, no
   HTTP), the license changelist searched by a whole serial, by a customer's whole address (in
   another case than stored), by part of a serial and of an address (Django's ``icontains``
   over the table, which every search was before issue 15), without a search, and the license
   page with its ledger;
   ``--requests`` times each after one warm-up. Printed: median and slowest time, the SQL
   queries and the slowest of them. Budget (DESIGN 10): under 50 ms each.

Fresh PostgreSQL database ``bench_admin`` (dropped at the end), DEBUG off.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import common
import reminders

BUDGET_MS = 50
LEDGER = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20, help="per page")
    args = parser.parse_args()

    with common.workdir() as tmp, common.fresh_database("bench_admin") as database:
        env = common.environment(database=database, workdir=Path(tmp))
        common.setup_django(env, collectstatic=True)
        from django.utils import timezone

        on = timezone.localdate()
        print(f"{common.machine()}; PostgreSQL; {args.licenses:,} licenses")
        started = time.monotonic()
        reminders.build(licenses=args.licenses, spread=865, history_days=0, on=on)
        serial, email = ledgers()
        print(f"build: {time.monotonic() - started:.0f} s; {common.load_average()}")

        rows = [
            measure(label, path, args.requests)
            for label, path in pages(serial=serial, email=email).items()
        ]
        print(f"after the run: {common.load_average()}")
        headers = ["admin page", "median ms", "slowest ms", "SQL queries", "slowest SQL ms"]
        print(common.table([*headers, f"< {BUDGET_MS} ms"], rows))


def ledgers() -> tuple[str, str]:
    """One ledger row per license, ``LEDGER`` for the measured one; its serial and owner."""
    from django.db import connection

    from licenses.models import License

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO licenses_licenseevent (license_id, kind, new_expires_on, new_product_id,
                                               note, created_at)
            SELECT id, 'created', expires_on, product_id, '', created_at FROM licenses_license
            """
        )
        license = License.objects.filter(owner__isnull=False).order_by("-id")[1000]
        cursor.execute(
            """
            INSERT INTO licenses_licenseevent (license_id, kind, old_expires_on, new_expires_on,
                                               old_product_id, new_product_id, note, created_at)
            SELECT %s, 'corrected', %s::date + n, %s::date + n + 1, %s, %s, 'bench', now()
            FROM generate_series(1, %s) AS n
            """,
            [license.pk, license.expires_on, license.expires_on, license.product_id,
             license.product_id, LEDGER - 1],
        )  # fmt: skip
        cursor.execute("ANALYZE")
    return license.serial, license.owner.email


def pages(*, serial: str, email: str) -> dict[str, str]:
    from django.urls import reverse

    from licenses.models import License

    changelist = reverse("admin:licenses_license_changelist")
    pk = License.objects.get(serial=serial).pk
    return {
        "search: whole serial": f"{changelist}?q={serial}",
        "search: whole address (other case)": f"{changelist}?q={email.upper()}",
        "search: part of a serial (Django's icontains, as before)": f"{changelist}?q={serial[5:14]}",
        "search: part of an address (as before)": f"{changelist}?q={email.split('@')[0]}",
        "changelist, no search": changelist,
        f"license page, {LEDGER} ledger rows": reverse("admin:licenses_license_change", args=[pk]),
    }


def measure(label: str, path: str, requests: int) -> list:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    assert client.get(path).status_code == 200, path  # warm up
    times, slowest_sql = [], 0.0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        slowest_sql = max([slowest_sql, *(float(q["time"]) for q in queries)])
    median = statistics.median(times) * 1000
    return [
        label,
        f"{median:.1f}",
        f"{max(times) * 1000:.1f}",
        len(queries),
        f"{slowest_sql * 1000:.1f}",
        "yes" if median < BUDGET_MS else "NO",
    ]


if __name__ == "__main__":
    common.run(main)
