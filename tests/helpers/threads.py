"""Races for tests: run functions at the same moment, each thread on its own database connection
(use with ``django_db(transaction=True)``: the threads see only committed rows)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(*functions: Callable[[], Any], timeout: float = 60) -> tuple[list, list]:
    """Start ``functions`` together (a barrier) and wait; returns (results, errors), in the
    order they finished."""
    barrier = threading.Barrier(len(functions))
    results, errors = [], []

    def run(function):
        try:
            barrier.wait(timeout)
            results.append(function())
        except Exception as error:  # collected for the test to assert on
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results, errors
