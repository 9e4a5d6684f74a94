"""pytest plugin: a real ``celery worker`` process for the task path, and ``wait_until``.

``celery_worker_process`` starts ``celery -A config worker`` (prefork, one pool process) for one
test. The worker uses the test database (committed data only: the fixture brings
``transactional_db``) and a broker of its own, which the test process publishes to as well:

- filesystem (the default): a fresh folder, through ``CELERY_FILESYSTEM_DIR``;
- Redis (``CELERY_BROKER_URL=redis://...``): the same server and database, every key under a
  prefix unique to the test, through ``CELERY_REDIS_KEY_PREFIX``; the keys are deleted afterwards.

On failure the worker's log is added to the report. ``tests.plugins.worker_tasks`` is loaded
into the worker with ``--include``: test-only tasks live there, not in the apps.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from django.conf import settings
from django.db import connection
from kombu import pools

from config.celery import app as celery_app
from config.celery import resume_publishing

STARTUP_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
READY_LINE = " ready."

T = TypeVar("T")

_workers_key = pytest.StashKey[list["WorkerProcess"]]()


def wait_until(
    predicate: Callable[[], T], timeout: float = 20, interval: float = 0.1, *, message: str = ""
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that.

    Refreshing ORM objects is the predicate's job (``license.refresh_from_db()``). After
    ``timeout`` seconds an AssertionError names what was awaited and the last value seen.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"Waited {timeout:g} s for {message or _describe(predicate)}; "
                f"last result: {result!r}"
            )
        time.sleep(interval)


class WorkerProcess:
    """A ``celery worker`` subprocess (in a process group of its own, with its pool process)."""

    def __init__(
        self, *, env: dict[str, str], log_path: Path, hostname: str, broker_dir: Path | None
    ):
        self.env = env
        self.log_path = log_path
        self.hostname = hostname
        #: The filesystem broker's folder (``queue/``, ``processed/``, ``control/``), else None.
        self.broker_dir = broker_dir
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            self.hostname,
            "--include",
            "tests.plugins.worker_tasks",
        ]

    def start(self, *, timeout: float = STARTUP_TIMEOUT_SECONDS) -> float:
        """Start the worker and wait until it consumes; returns the seconds that took."""
        started = time.monotonic()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=settings.BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + timeout
        while READY_LINE not in self.log(offset):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"The Celery worker exited with {self.process.returncode} before it was "
                    f"ready:\n{self.log(offset)}"
                )
            if time.monotonic() >= deadline:
                self.kill()
                raise RuntimeError(
                    f"The Celery worker was not ready after {timeout:g} s:\n{self.log(offset)}"
                )
            time.sleep(0.05)
        return time.monotonic() - started

    def log(self, offset: int = 0) -> str:
        """Everything the worker wrote (stdout and stderr, every run of it) from ``offset``."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def pool_pids(self) -> list[int]:
        """The pids of the worker's pool processes (the ones that run the tasks)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:  # fields: state, ppid, ...
                children.append(int(stat.parent.name))
        return children

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the worker and its pool processes at once, as when its machine or container
        dies; with SIGKILL, return once the worker is gone."""
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            return
        if sig == signal.SIGKILL:
            self.process.wait()

    def send_signal(self, sig: int) -> None:
        """Signal the main process only, as an operator does: SIGTERM for a warm shutdown (the
        running task finishes), SIGQUIT for a cold one (it is abandoned)."""
        self.process.send_signal(sig)

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Wait until the main process has exited; returns its exit status."""
        return self.process.wait(timeout=timeout)

    def stop(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Warm shutdown (SIGTERM lets the running task finish), SIGKILL after ``timeout``."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Whatever is left of the group: the main process, or a pool process it left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()

    def restart(self, *, env: dict[str, str] | None = None) -> float:
        """Stop (if still running) and start again on the same database and broker, with
        ``env`` added to the environment; returns the seconds until it was ready again."""
        self.stop()
        self.env = {**self.env, **(env or {})}
        return self.start()


@pytest.fixture
def celery_worker_process(request, transactional_db, tmp_path_factory) -> Iterator[WorkerProcess]:
    """A running Celery worker on the test database and on a broker of this test's own.

    Function-scoped: every test gets an empty broker and a worker with no leftovers from the
    previous test (a task still running while the tables are flushed, a killed worker).
    """
    token = uuid.uuid4().hex[:12]
    folder = tmp_path_factory.mktemp("celery-worker")
    # The session's broker, as the settings read it: not ``celery_app.conf.broker_url``, which a
    # test may have changed in this process.
    broker_url = os.environ.get("CELERY_BROKER_URL") or settings.CELERY_BROKER_URL
    transport_options = dict(celery_app.conf.broker_transport_options or {})
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    scheme = broker_url.partition("://")[0]
    broker_dir = None
    if scheme == "filesystem":
        broker_dir = folder / "broker"
        env["CELERY_FILESYSTEM_DIR"] = str(broker_dir)
        folders = {name: broker_dir / name for name in ("queue", "processed", "control")}
        for path in folders.values():
            path.mkdir(parents=True)
        transport_options.update(
            data_folder_in=str(folders["queue"]),
            data_folder_out=str(folders["queue"]),
            processed_folder=str(folders["processed"]),
            control_folder=str(folders["control"]),
        )
    elif scheme in {"redis", "rediss"}:
        key_prefix = f"test-{token}:"
        env["CELERY_REDIS_KEY_PREFIX"] = key_prefix
        transport_options["global_keyprefix"] = key_prefix
    else:
        pytest.skip(f"celery_worker_process isolates filesystem and Redis brokers, not {scheme}")

    worker = WorkerProcess(
        env=env,
        log_path=folder / "worker.log",
        hostname=f"test-{token}@%h",
        broker_dir=broker_dir,
    )
    saved_transport_options = celery_app.conf.broker_transport_options
    with pytest.MonkeyPatch.context() as patch:
        # Celery lets the CELERY_BROKER_URL variable win over its configuration.
        patch.setenv("CELERY_BROKER_URL", broker_url)
        # Tasks go to the worker, not in-process (conftest makes unit tests eager).
        saved_eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_transport_options = transport_options
        _drop_broker_connections()
        try:
            celery_app.control.purge()
            worker.start()
            request.node.stash.setdefault(_workers_key, []).append(worker)
            yield worker
        finally:
            worker.stop()
            if scheme != "filesystem":
                _delete_redis_keys(broker_url, key_prefix)
            celery_app.conf.broker_transport_options = saved_transport_options
            celery_app.conf.task_always_eager = saved_eager
            _drop_broker_connections()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Show the log of the test's worker(s) under a failed test."""
    report = yield
    if report.failed:
        for worker in item.stash.get(_workers_key, []):
            report.sections.append((f"Captured celery worker log {report.when}", worker.log()))
    return report


def _database_url(settings_dict: dict) -> str:
    """A DATABASE_URL that django-environ parses back into the test database."""
    engine, name = settings_dict["ENGINE"], str(settings_dict["NAME"])
    if engine == "django.db.backends.sqlite3":
        if name == ":memory:" or "mode=memory" in name:
            raise pytest.UsageError(
                "The Celery worker cannot open an in-memory SQLite test database: "
                "set DATABASES['default']['TEST']['NAME'] to a file."
            )
        return f"sqlite:///{Path(name).resolve()}"
    if engine == "django.db.backends.postgresql":
        user = urllib.parse.quote(settings_dict.get("USER") or "", safe="")
        password = urllib.parse.quote(settings_dict.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = urllib.parse.quote(settings_dict.get("HOST") or "", safe="")
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{urllib.parse.quote(name, safe='')}"
    raise pytest.UsageError(f"celery_worker_process does not know the database engine {engine}")


def _drop_broker_connections() -> None:
    """Forget the pooled broker connections so the next publish uses the current settings."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    resume_publishing()


def _delete_redis_keys(broker_url: str, key_prefix: str) -> None:
    client = redis.Redis.from_url(broker_url)
    try:
        for key in client.scan_iter(match=f"{key_prefix}*", count=500):
            client.delete(key)
    finally:
        client.close()


def _describe(predicate: Callable) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
