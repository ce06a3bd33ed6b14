"""Building an import's rows in worker processes.

Validating, building and sealing rows is CPU-bound Python, so one process uses one core. The dry
run hands chunks of units to forked worker processes and takes their results in order, writing
each chunk's report entries and staged rows while the workers build the next chunks.

Workers are forked once the file has been read: they share the units in memory and receive only
chunk numbers. They never use the database (any query in a worker raises), hold the
organisation's keys only as long as the dry run lasts, and end with it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.utils import translation

from tessera.exchange.readers import paused_gc

T = TypeVar("T")

# The task of the pool being started: forked workers find it here (functions are not sent).
_task: Callable[[int], Any] | None = None


def worker_count() -> int:
    configured = getattr(settings, "TESSERA_IMPORT_WORKERS", 0)
    return int(configured) if configured else min(4, os.cpu_count() or 1)


def in_order(task: Callable[[int], T], count: int, workers: int) -> Iterator[T]:
    """task(0), task(1), … task(count - 1), computed by `workers` forked processes and yielded in
    order; computed here, one after another, for one worker, one task, or where forking is not
    safe."""
    if workers <= 1 or count <= 1 or not can_fork():
        for index in range(count):
            yield task(index)
        return
    global _task
    _task = task
    try:
        pool = multiprocessing.get_context("fork").Pool(
            min(workers, count), initializer=_start_worker, initargs=(translation.get_language(),)
        )
        with pool:
            yield from pool.imap(_run, range(count))
    finally:
        _task = None


def can_fork() -> bool:
    """Forking copies only the calling thread: a lock another thread holds at that moment stays
    held for ever in the child. So workers are forked only from single-threaded processes (the
    CLI, the task worker); a multi-threaded web server builds in its own process."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _run(index: int) -> Any:
    assert _task is not None
    with paused_gc():
        return _task(index)


def _start_worker(language: str | None) -> None:
    translation.activate(language or settings.LANGUAGE_CODE)
    # The parent's connection is shared with the fork: a query here would interleave with the
    # parent's on the same socket, so none may run.
    for connection in connections.all():
        connection.execute_wrappers.append(_no_database)


def _no_database(*args: Any) -> Any:
    raise RuntimeError("Import workers do not use the database.")
