"""The floors of DESIGN 10: the least work each kind of endpoint must do, served the same way.

A ratio against a floor says how much the shop's own code adds, not what Django, gunicorn,
PostgreSQL or Celery cost anyway:

- floor page (``/bench/floor/page/``): renders ``base.html`` for a signed-in customer (the
  session and user reads of every signed-in page) and queries nothing else;
- floor write (``/bench/floor/write/``): inserts the request body as one row and commits;
- floor task (``bench.tasks.floor``): locks one row and inserts one row in one transaction.

Their two tables are bench-only (PostgreSQL; ``create_tables`` runs after ``migrate``), not
part of the shop's models or migrations.
"""

from django.db import connection, transaction

CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_floor_row "
    "(id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS bench_floor_lock (id integer PRIMARY KEY, counter bigint NOT NULL)",
    "INSERT INTO bench_floor_lock (id, counter) VALUES (1, 0) ON CONFLICT DO NOTHING",
)


def create_tables() -> None:
    with connection.cursor() as cursor:
        for sql in CREATE:
            cursor.execute(sql)


def write(body: str) -> None:
    """Floor write: one INSERT, one COMMIT."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor_row (body) VALUES (%s)", [body])


def lock_and_insert(note: str) -> None:
    """Floor task: lock one row, insert one row, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT counter FROM bench_floor_lock WHERE id = 1 FOR UPDATE")
        cursor.execute("INSERT INTO bench_floor_row (body) VALUES (%s)", [note])
