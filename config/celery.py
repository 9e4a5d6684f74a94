"""The Celery app, configured from Django settings (``CELERY_*``), tasks autodiscovered.

Every task of every app is an ``OnCommitTask`` (the app's ``task_cls``): ``delay()`` and
``apply_async()`` inside a transaction wait for its commit, so a worker never looks for a row that
is not there yet and a rolled-back change queues nothing; publishing is robust, so a broker that is
down never turns a committed payment into an error page. Nothing is lost that way: every piece of
queued work can be found again in the database by a periodic sweep (reconciliation, the receipt
sweep) that queues it once more. Modelled on pretix's ``TransactionAwareTask``.
"""

from __future__ import annotations

import logging
import os
import time

from celery import Celery, Task, signals
from django.conf import settings
from django.db import close_old_connections, transaction
from kombu.exceptions import OperationalError

from config import broker
from config.folders import ensure_local_folders

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

# Publishing happens inside requests: with the broker down, Celery's default retry policy would
# hold every webhook and checkout request for 0.6 s (bench/webhook_ingest.py --broker-down). One
# quick retry, then give up: the sweeps queue the work later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}

# Mails are follow-ups: with Redis a worker takes every waiting task of the default priority (0,
# extensions, webhooks, refunds) before a mail (kombu keeps one list per priority step and reads
# them in order; lower is sooner). A burst of payments or a reminder sweep then delays mails by
# seconds, never an extension behind the mails (issue 15, bench/fulfilment.py). The filesystem
# broker has no priorities: there every task keeps its place in line.
MAIL_PRIORITY = 6

# Options of a task whose service is idempotent: any error is retried, with growing pauses.
RETRY_WITH_BACKOFF = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
}


class OnCommitTask(Task):
    """Queued when the surrounding transaction commits (at once outside one), never raising."""

    #: A mail or another follow-up that may wait behind the work it follows (MAIL_PRIORITY).
    #: Celery deprecates its own ``priority`` task attribute (6.0), hence this one.
    follow_up = False

    def apply_async(self, args=None, kwargs=None, **options):
        options.setdefault("retry_policy", PUBLISH_RETRY_POLICY)
        if self.follow_up:
            options.setdefault("priority", MAIL_PRIORITY)
        if not transaction.get_connection().in_atomic_block:
            return self._publish(args, kwargs, options)
        transaction.on_commit(lambda: self._publish(args, kwargs, options))
        return None

    def _publish(self, args, kwargs, options):
        down = _broker_down.get("since")
        if down is not None and time.monotonic() - down < settings.CELERY_PUBLISH_PAUSE_SECONDS:
            logger.warning("Did not queue %s%r: the broker was unreachable %.1f s ago; a sweep "
                           "will queue it again", self.name, args, time.monotonic() - down)  # fmt: skip
            return None
        try:
            result = super().apply_async(args, kwargs, **options)
        except Exception as error:
            if self.app.conf.task_always_eager:
                raise  # tests: an error in the task itself must surface
            if isinstance(error, OperationalError):  # kombu: the broker cannot be reached
                _broker_down["since"] = time.monotonic()
            logger.warning("Could not queue %s%r; a sweep will queue it again", self.name, args,
                           exc_info=True)  # fmt: skip
            return None
        _broker_down.pop("since", None)
        return result


# When this process last found the broker unreachable. For CELERY_PUBLISH_PAUSE_SECONDS after
# that it does not try again: with the broker down every webhook and checkout request would
# otherwise wait for a refused connection and its retry (issue 15, bench/webhook_ingest.py
# --broker-down); what it did not queue, the sweeps queue later.
_broker_down: dict[str, float] = {}


def resume_publishing() -> None:
    """Try the broker again at the next publish (tests, after they bring the broker back)."""
    _broker_down.clear()


broker.register()  # filesystem:// writes its message files atomically (config/broker.py)
app = Celery("renewal_shop", task_cls=OnCommitTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
@signals.beat_init.connect
def _create_local_folders(**kwargs) -> None:
    ensure_local_folders()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """What Django does around each request, around each task: a connection that broke or
    outlived ``CONN_MAX_AGE`` is closed, a healthy one kept (``CELERY_DB_REUSE_MAX`` stops
    Celery's fix-up from closing every one). Not for eager tasks, which run inside the caller's
    transaction."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
