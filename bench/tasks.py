"""Bench-only Celery tasks, loaded by the worker with ``-I bench.tasks`` (not part of the app)."""

import time
from functools import cache

import redis
from celery import shared_task
from django.conf import settings

from . import floors


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task
def noop(done_key: str) -> None:
    """No work; only records when it ran (one RPUSH) so the benchmark sees the burst end."""
    _redis().rpush(done_key, time.time())


@shared_task
def floor(done_key: str) -> None:
    """Floor task (DESIGN 10): lock one row and insert one row in one transaction; then the same
    RPUSH as ``noop`` so the benchmark sees the burst end."""
    floors.lock_and_insert(done_key)
    _redis().rpush(done_key, time.time())
