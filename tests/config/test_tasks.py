"""The task path (DESIGN 6, 11): every task waits for the commit of the transaction that queued
it (``config.celery.OnCommitTask``), a broker that is down never turns into an error, and with a
real Celery worker process a task whose worker dies is delivered again where the broker can do it."""

import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from kombu import Connection

from config.celery import app as celery_app
from licenses.reminders.services import send_expiry_reminder
from licenses.reserves import send_reserve_mail
from orders.mail import send_order_mail
from tests.factories import LicenseFactory
from tests.plugins.worker import _drop_broker_connections, wait_until
from tests.plugins.worker_tasks import (
    attempts,
    record_connections,
    record_follow_up,
    record_label,
    set_auto_renew,
    sleep_then_set_auto_renew,
)

FILESYSTEM_BROKER = settings.CELERY_BROKER_URL.startswith("filesystem://")


def auto_renew_of(license) -> bool:
    license.refresh_from_db()
    return license.auto_renew


def start_slow_task(license, attempts_file) -> int:
    """Queue the slow task and wait until it runs; returns the pid of the process running it."""
    sleep_then_set_auto_renew.delay(license.pk, True, seconds=60, attempts_file=str(attempts_file))
    [pid] = wait_until(lambda: attempts(attempts_file))
    return pid


def test_worker_runs_a_queued_task_on_the_test_database(celery_worker_process):
    license = LicenseFactory(auto_renew=False)

    set_auto_renew.delay(license.pk, True)

    wait_until(lambda: auto_renew_of(license))
    assert "Task tests.plugins.worker_tasks.set_auto_renew[" in celery_worker_process.log()


def test_task_queued_in_a_transaction_runs_after_the_commit(celery_worker_process):
    with transaction.atomic():
        # Before the commit the worker could not load this row, and the task would fail.
        license = LicenseFactory(auto_renew=False)
        set_auto_renew.delay(license.pk, True)

    wait_until(lambda: auto_renew_of(license))
    assert "DoesNotExist" not in celery_worker_process.log()


def test_task_queued_in_a_transaction_is_dropped_on_rollback(celery_worker_process):
    dropped, kept = LicenseFactory(auto_renew=False), LicenseFactory(auto_renew=False)

    with pytest.raises(RuntimeError), transaction.atomic():
        set_auto_renew.delay(dropped.pk, True)
        raise RuntimeError("rolled back")
    set_auto_renew.delay(kept.pk, True)

    # One pool process takes the tasks in order: once the later one ran, the earlier would have.
    wait_until(lambda: auto_renew_of(kept))
    assert auto_renew_of(dropped) is False


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_never_fails_the_transaction_that_queued(monkeypatch, caplog):
    license = LicenseFactory(auto_renew=False)
    celery_app.conf.task_always_eager = False  # conftest's _celery_eager restores it
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    _drop_broker_connections()
    try:
        with transaction.atomic():
            set_auto_renew.delay(license.pk, True)  # published at the commit, which succeeds
        assert set_auto_renew.delay(license.pk, True) is None  # outside a transaction: at once
    finally:
        monkeypatch.undo()
        _drop_broker_connections()
    assert caplog.text.count("a sweep will queue it again") == 2
    assert auto_renew_of(license) is False  # committed, nothing ran


@pytest.mark.django_db(transaction=True)
def test_after_the_broker_was_unreachable_a_process_stops_trying_for_a_while(
    monkeypatch, caplog, settings
):
    """Issue 15: with the broker down every request paid for a refused connection and its retry
    (webhooks at a fifth of the floor write). After one failure a process skips the broker for
    CELERY_PUBLISH_PAUSE_SECONDS (the sweeps queue the work), then tries again."""
    license = LicenseFactory(auto_renew=False)
    celery_app.conf.task_always_eager = False  # conftest's _celery_eager restores it
    settings.CELERY_PUBLISH_PAUSE_SECONDS = 0.5
    working_broker = os.environ.get("CELERY_BROKER_URL")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    _drop_broker_connections()
    try:
        set_auto_renew.delay(license.pk, True)
        started = time.monotonic()
        for _ in range(20):
            assert set_auto_renew.delay(license.pk, True) is None
        skipping = time.monotonic() - started
        time.sleep(0.6)
        set_auto_renew.delay(license.pk, True)  # the pause is over: the broker is tried again
    finally:
        monkeypatch.undo()
        _drop_broker_connections()
    assert caplog.text.count("Could not queue") == 2  # the first and the one after the pause
    assert caplog.text.count("Did not queue") == 20
    assert skipping < 0.25, f"20 skipped publishes took {skipping:.3f} s"
    assert os.environ.get("CELERY_BROKER_URL") == working_broker


def test_task_is_delivered_again_when_its_pool_process_dies(celery_worker_process, tmp_path):
    """reject_on_worker_lost: the worker sees its pool process die and puts the task back."""
    license = LicenseFactory(auto_renew=False)
    attempts_file = tmp_path / "attempts"
    pid = start_slow_task(license, attempts_file)
    assert pid in celery_worker_process.pool_pids()

    os.kill(pid, signal.SIGKILL)

    wait_until(lambda: auto_renew_of(license))
    assert len(attempts(attempts_file)) == 2
    assert "WorkerLostError" in celery_worker_process.log()


def test_task_interrupted_by_a_cold_shutdown_is_delivered_again(celery_worker_process, tmp_path):
    """A cold shutdown (SIGQUIT) abandons the running task and hands its message back to the
    broker as the worker closes its channel; the next worker runs it."""
    license = LicenseFactory(auto_renew=False)
    attempts_file = tmp_path / "attempts"
    start_slow_task(license, attempts_file)

    celery_worker_process.send_signal(signal.SIGQUIT)
    celery_worker_process.wait()
    assert auto_renew_of(license) is False
    celery_worker_process.restart()

    wait_until(lambda: auto_renew_of(license))
    assert len(attempts(attempts_file)) == 2


def test_killed_worker_redis_redelivers_filesystem_loses(celery_worker_process, tmp_path):
    """What a SIGKILLed worker leaves behind depends on the broker; the suite runs on both."""
    if FILESYSTEM_BROKER:
        filesystem_broker_loses_the_task_of_a_killed_worker(celery_worker_process, tmp_path)
    else:
        redis_delivers_the_task_of_a_killed_worker_again(celery_worker_process, tmp_path)


def redis_delivers_the_task_of_a_killed_worker_again(celery_worker_process, tmp_path):
    """acks_late on Redis: the message stays in the ``unacked`` hash until a worker acks it.

    A starting worker puts back every unacknowledged message older than the visibility timeout
    (later sweeps come only every ~100 s), so the test waits longer than a short one, then restarts.
    """
    license = LicenseFactory(auto_renew=False)
    attempts_file = tmp_path / "attempts"
    start_slow_task(license, attempts_file)

    celery_worker_process.kill(signal.SIGKILL)
    assert auto_renew_of(license) is False
    time.sleep(1.5)
    celery_worker_process.restart(env={"CELERY_VISIBILITY": "1"})

    wait_until(lambda: auto_renew_of(license))
    assert len(attempts(attempts_file)) == 2


def filesystem_broker_loses_the_task_of_a_killed_worker(celery_worker_process, tmp_path):
    """The filesystem transport keeps no unacknowledged message on disk.

    Fetching a message moves its file out of the queue folder and deletes it
    (``kombu.transport.filesystem.Channel._get``); until the ack the only copy is in the
    worker's memory (``virtual.QoS._delivered``), written back to the folder only when the
    worker closes its channel. A worker killed with SIGKILL never does: the task is gone, and
    acks_late cannot help. Production uses Redis or RabbitMQ for that reason (DESIGN 2).
    """
    license, later = LicenseFactory(auto_renew=False), LicenseFactory(auto_renew=False)
    attempts_file = tmp_path / "attempts"
    start_slow_task(license, attempts_file)
    assert list((celery_worker_process.broker_dir / "queue").iterdir()) == []

    celery_worker_process.kill(signal.SIGKILL)
    celery_worker_process.restart()
    set_auto_renew.delay(later.pk, True)

    wait_until(lambda: auto_renew_of(later))
    assert len(attempts(attempts_file)) == 1
    assert auto_renew_of(license) is False


def test_filesystem_broker_never_shows_a_message_before_it_is_whole(tmp_path, monkeypatch):
    """kombu writes into a file a worker may already take and read empty (the worker then dies
    with JSONDecodeError); config.broker renames a finished file into place instead."""
    folder = tmp_path / "queue"
    folder.mkdir()
    renames, seen_while_writing = [], []
    real_replace = os.replace

    def replace(source, target):
        renames.append((Path(source).suffix, Path(target).suffix))
        seen_while_writing.extend(name for name in os.listdir(folder) if name.endswith(".msg"))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("atomic")
        queue.put({"n": 1})
        assert renames == [(".part", ".msg")]  # written aside, then renamed into place
        assert seen_while_writing == []  # no message file existed before the rename
        assert queue.get(timeout=1).payload == {"n": 1}
        queue.close()


def test_a_pool_process_keeps_its_database_connection_between_tasks(
    celery_worker_process, tmp_path
):
    """Issue 15: Celery's Django fix-up closed the connection around every task, so each task
    opened a new one (on PostgreSQL the largest part of an extension); CELERY_DB_REUSE_MAX and
    config.celery's close_old_connections keep a healthy one, as Django does between requests,
    and honour CONN_MAX_AGE (0 for SQLite, where opening the file is cheap: a new one per task)."""
    record = tmp_path / "connections"
    for done in range(1, 4):
        record_connections.delay(str(record))
        wait_until(lambda done=done: record.exists() and len(record.read_text().split()) == done)

    opened = [int(count) for count in record.read_text().split()]
    if settings.DATABASES["default"].get("CONN_MAX_AGE"):
        assert len(set(opened)) == 1, f"connections opened after each task: {opened}"
    else:
        assert opened == [opened[0], opened[0] + 1, opened[0] + 2]


def test_mails_wait_behind_extensions_where_the_broker_has_priorities(
    celery_worker_process, tmp_path
):
    """Issue 15: with Redis a queued extension runs before mails queued earlier (they are
    follow-ups, MAIL_PRIORITY); the filesystem broker has no priorities and keeps the order."""
    assert send_order_mail.follow_up and send_reserve_mail.follow_up
    assert send_expiry_reminder.follow_up
    record = tmp_path / "order"
    celery_worker_process.stop()
    for n in range(3):
        record_follow_up.delay(str(record), f"mail {n}")
    record_label.delay(str(record), "extension")
    celery_worker_process.restart()

    ran = wait_until(lambda: record.exists() and len(record.read_text().split("\n")) > 4 and record)
    order = ran.read_text().split("\n")[:4]
    if FILESYSTEM_BROKER:
        assert order == ["mail 0", "mail 1", "mail 2", "extension"]
    else:
        assert order[0] == "extension" and sorted(order[1:]) == ["mail 0", "mail 1", "mail 2"]
