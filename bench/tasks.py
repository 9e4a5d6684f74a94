"""Bench-only Celery task, loaded by the worker with ``-I bench.tasks`` (not part of the app)."""

import time
from functools import cache

import redis
from celery import shared_task
from django.conf import settings


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@shared_task
def noop(done_key: str) -> None:
    """No work; only records when it ran (one RPUSH) so the benchmark sees the burst end."""
    _redis().rpush(done_key, time.time())
