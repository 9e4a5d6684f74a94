"""What the benchmarks share: environment, database, processes, a small HTTP load generator, tables.

Each script gets a fresh PostgreSQL database and a Redis DB number of its own (flushed before
and after), starts what it needs on free loopback ports and stops it again, on Ctrl-C too.
The shop runs as in production: ``DEBUG`` off, gunicorn sync workers, PostgreSQL, Redis.

Environment (optional): ``BENCH_POSTGRES`` (server URL without database, default
``postgres://postgres@127.0.0.1:5432``), ``BENCH_REDIS`` (default ``redis://127.0.0.1:6379/9``),
``BENCH_DATABASE_PREFIX`` (put before each database name, so that runs of several checkouts on
one server do not drop each other's databases; default none).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The scripts run as ``python bench/<name>.py``: make this checkout's code win over any other
# installed copy of the shop (an editable install may point elsewhere).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
DATABASE_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "")
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105  (signs bench events on loopback only)
STARTUP_SECONDS = 30


# --- Environment and database ---------------------------------------------------------------


def environment(*, database: str, workdir: Path, stripe_api: str = "http://127.0.0.1:9") -> dict:
    """The shop's settings for a run, production-like (DEBUG off), all on loopback."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy in front
        "SECRET_KEY": secrets.token_urlsafe(40),
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_api,
        "STRIPE_JS_URL": f"{stripe_api}/js.stripe.com/v3/",
        "STRIPE_ALLOW_LOCALSTRIPE": "true",  # DEBUG off against localstripe on loopback
        "DATABASE_URL": f"{POSTGRES}/{database}",
        "CELERY_BROKER_URL": REDIS,
        "VAR_DIR": str(workdir / "var"),
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        # Mails are rendered and "sent" to memory: no SMTP server in the measurement.
        "EMAIL_URL": "memorymail://",
        "LOG_LEVEL": "WARNING",
    }


def setup_django(env: dict, *, collectstatic: bool = False) -> None:
    """Configure Django in this process with ``env`` and migrate the (fresh) database."""
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from bench import floors

    floors.create_tables()
    if collectstatic:  # DEBUG off: templates need the manifest of the static files
        call_command("collectstatic", verbosity=0, interactive=False)


@contextlib.contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """Create database ``name`` (dropping a leftover one) and drop it again at the end."""
    import psycopg

    name = DATABASE_PREFIX + name

    def admin(sql: str) -> None:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_redis() -> Iterator:
    """The benchmark's Redis DB (never DB 0 by default), flushed before and after."""
    import redis

    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


# --- Processes -------------------------------------------------------------------------------


def queued(redis, queue: str = "celery") -> int:
    """Tasks waiting in ``queue``, all priorities: kombu keeps one Redis list per priority step
    (``celery``, ``celery\x06\x163``, …; the shop's mails wait at ``MAIL_PRIORITY``)."""
    return sum(redis.llen(f"{queue}\x06\x16{step}" if step else queue) for step in (0, 3, 6, 9))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Subprocesses of one run, each in its own process group (Ctrl-C reaches only us, and we
    stop them in reverse order, children included). Output goes to ``<workdir>/<name>.log``."""

    def __init__(self, *, workdir: Path, env: dict) -> None:
        self.workdir = workdir
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *argv],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        if process.poll() is None:
            process.terminate()  # the leader shuts its workers down (gunicorn, celery)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # a straggling child of that group

    def report_errors(self, name: str, results) -> None:
        """Errors are never averaged away: show what the server logged."""
        if any(result.errors for result in results):
            print(f"ERRORS in the run; the end of {name}'s log:\n{self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = (self.workdir / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def check(self, name: str) -> None:
        process = self.running[name]
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.log_tail(name)}")

    def wait_until_answering(self, name: str, port: int, path: str = "/") -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            self.check(name)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer on port {port}:\n{self.log_tail(name)}")


def gunicorn(processes: Processes, *, workers: int) -> int:
    """The shop as README's production line serves it (sync workers); returns the port."""
    port = free_port()
    processes.start(
        "gunicorn",
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
    )
    processes.wait_until_answering("gunicorn", port, "/bench/bare/")
    return port


def localstripe(processes: Processes, *, port: int) -> None:
    processes.start(
        "localstripe", "manage.py", "run_localstripe", "--port", str(port), "--webhook-url", ""
    )
    processes.wait_until_answering("localstripe", port, "/js.stripe.com/v3/")


def run(main: Callable[[], None]) -> None:
    """Run ``main`` so that Ctrl-C or SIGTERM unwinds it (every ``with`` tears down)."""

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        main()
    except KeyboardInterrupt:
        print("\nInterrupted: processes stopped, database and Redis DB cleaned up.")
        sys.exit(130)


def workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="bench-")


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{load_average()}"
    )


def load_average() -> str:
    """Other work on the machine skews every number: print it with the results."""
    return "load average " + " ".join(f"{load:.2f}" for load in os.getloadavg())


# --- HTTP load -------------------------------------------------------------------------------


def http_request(
    method: str, path: str, *, body: bytes = b"", headers: dict | None = None
) -> bytes:
    """Raw HTTP/1.1 request bytes; ``Connection: close`` as gunicorn's sync workers close anyway."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Load:
    """Outcome of one load run: latencies (seconds) of the answers with the expected status."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: Load) -> None:
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.seconds += other.seconds

    @property
    def errors(self) -> int:
        return self.statuses.total() - len(self.latencies)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    count: int,
    concurrency: int,
    max_seconds: float,
    expect: int = 200,
) -> Load:
    """Closed loop: ``concurrency`` clients send ``make_request(i)`` for i < count, each
    waiting for the answer before the next, and stop after ``max_seconds`` whatever is left."""
    return asyncio.run(_load(port, make_request, count, concurrency, max_seconds, expect))


async def _load(port, make_request, count, concurrency, max_seconds, expect) -> Load:
    result = Load()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    indexes = iter(range(count))

    async def client() -> None:
        for index in indexes:
            if loop.time() > deadline:
                return
            request = make_request(index)
            started = time.perf_counter()
            try:
                status = await asyncio.wait_for(_exchange(port, request), timeout=10)
            except (TimeoutError, OSError, ValueError, IndexError):
                status = 0
            result.statuses[status] += 1
            if status == expect:
                result.latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


async def _exchange(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest, until the server closes
    finally:
        writer.close()
    return int(status_line.split()[1])


# --- Numbers and tables ----------------------------------------------------------------------


def cloud_renewal(user, *, serial: str, expires_on):
    """A Cloud license of ``user`` expiring on ``expires_on`` and a draft order renewing it for a
    year (the demo catalog must be loaded). Call after ``setup_django``."""
    import datetime as dt

    from licenses.models import Product, RenewalPath
    from licenses.services import create_license
    from orders import services

    cloud = Product.objects.get(code="cloud")
    path = RenewalPath.objects.get(from_product=cloud, to_product=cloud)
    license = create_license(
        serial=serial,
        product=cloud,
        owner=user,
        starts_on=expires_on - dt.timedelta(days=365),
        expires_on=expires_on,
    )
    return services.start_order(license=license, path_id=path.pk, term_years=1, customer=user)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 500 values is the 495th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table (also valid Markdown), numbers right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = [
            cell.rjust(width) if is_num else cell.ljust(width)
            for cell, width, is_num in zip(row, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if is_num else "-" * (w + 2)
        for w, is_num in zip(widths, numeric, strict=True)
    )
    return "\n".join([line(headers), rule + "|", *(line(row) for row in cells)])


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("x%"))
    except ValueError:
        return text in ("", "-")
    return True
