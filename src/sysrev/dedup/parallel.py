"""Work split over worker processes: the rule's ``threads``, used for normalising the records
and scoring the candidate pairs, the two steps whose time grows with the table.

Workers are forked, so they read the table and the normalised records where the parent left
them, and send back only their part of the result; the parts are joined in order, so the
result is the same for any number of workers (tests/unit/test_dedup_clusters.py).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
from typing import Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Fewest items (records or pairs) per worker for which starting workers pays.
MIN_PARALLEL = 20_000

_TASK: Callable | None = None


def _call(start: int, stop: int):
    assert _TASK is not None
    return _TASK(start, stop)


def map_ranges(task: Callable[[int, int], T], n: int, workers: int,
               min_items: int | None = None, chunk: int | None = None,
               fresh: bool = True) -> list[T]:
    """``task(start, stop)`` over consecutive ranges of ``range(n)``, in order.

    Runs in this process when ``workers`` is 1, ``n`` is below ``min_items`` per worker
    (default :data:`MIN_PARALLEL`),
    or the platform cannot fork; otherwise in ``workers`` forked processes. ``chunk``
    bounds the items per call (memory); no call gets more than an equal share per worker.
    ``fresh``: each call in a new worker (see below); ``False`` for a task whose calls all
    read the same parts of the parent's objects (scoring reads every record's title and
    authors), so that a worker copies those once rather than once per call.
    """
    workers = max(1, int(workers))
    if workers > 1 and n < (MIN_PARALLEL if min_items is None else min_items) * 2:
        workers = 1
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        workers = 1
    share = -(-n // workers) or 1
    size = min(chunk, share) if chunk else share
    ranges = [(start, min(start + size, n)) for start in range(0, n, size)] or [(0, 0)]
    if workers == 1:
        return [task(start, stop) for start, stop in ranges]
    global _TASK
    _TASK = task
    # Each call in a fresh worker (maxtasksperchild=1): a forked worker copies every page
    # of the parent's objects it touches (reference counts), so one that lived on would
    # come to hold a private copy of much of the table. Objects that exist before the
    # fork are frozen out of the garbage collector, whose passes would touch them all.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(
                workers, maxtasksperchild=1 if fresh else None) as pool:
            return pool.starmap(_call, ranges, chunksize=1)
    finally:
        _TASK = None
        gc.unfreeze()
