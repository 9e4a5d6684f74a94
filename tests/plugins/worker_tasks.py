"""Test-only tasks, loaded by the test worker with ``--include`` and never by a production worker."""

import os
import time
from pathlib import Path

from celery import shared_task
from django.db.backends.signals import connection_created

from licenses import services
from licenses.models import License

_connections_opened = []
connection_created.connect(lambda **kwargs: _connections_opened.append(1), weak=False)


@shared_task
def record_connections(record_file: str) -> None:
    """Use the database, then append how many connections this pool process has opened so far
    to ``record_file`` (a task that reconnects every time writes 1, 2, 3...)."""
    License.objects.exists()
    with Path(record_file).open("a") as file:
        file.write(f"{len(_connections_opened)}\n")


@shared_task
def record_label(record_file: str, label: str) -> None:
    """Append ``label`` to ``record_file``: the order in which the worker ran such tasks."""
    with Path(record_file).open("a") as file:
        file.write(f"{label}\n")


@shared_task(follow_up=True)
def record_follow_up(record_file: str, label: str) -> None:
    """``record_label`` published as a follow-up (a mail): at MAIL_PRIORITY."""
    record_label(record_file, label)


@shared_task
def set_auto_renew(license_id: int, enabled: bool) -> None:
    """A small idempotent task on the test database: switch a license's automatic renewal."""
    services.set_auto_renew(license=License.objects.get(pk=license_id), enabled=enabled)


@shared_task
def sleep_then_set_auto_renew(
    license_id: int, enabled: bool, *, seconds: float, attempts_file: str
) -> None:
    """``set_auto_renew`` that stays busy ``seconds`` on its first attempt only.

    Every attempt appends the pid of the process running it to ``attempts_file``, so a test can
    wait for the task to be running (to kill its worker) and count how often it was delivered.
    """
    attempts = Path(attempts_file)
    first_attempt = not attempts.exists() or not attempts.read_text().strip()
    with attempts.open("a") as file:
        file.write(f"{os.getpid()}\n")
    if first_attempt:
        time.sleep(seconds)
    set_auto_renew(license_id, enabled)


def attempts(attempts_file: Path) -> list[int]:
    """The pids that started ``sleep_then_set_auto_renew`` with this file, in order."""
    if not attempts_file.exists():
        return []
    return [int(line) for line in attempts_file.read_text().split()]
