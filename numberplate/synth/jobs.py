"""How the synthetic generators share out their items: split sizes, chunks for worker processes, the run.

Every item is drawn from its own seeded generator, so a dataset depends only on its seed, never on how
many workers wrote it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Splits = tuple[tuple[str, int], ...]  # (split name, first index of the next split)
Job = TypeVar("Job")
Result = TypeVar("Result")


def split_boundaries(count: int, val_fraction: float, test_fraction: float) -> Splits:
    """Items ``0..count-1`` in order: train first, then val, then test."""
    n_val, n_test = int(round(count * val_fraction)), int(round(count * test_fraction))
    n_train = count - n_val - n_test
    return ("train", n_train), ("val", n_train + n_val), ("test", count)


def split_sizes(splits: Splits) -> dict[str, int]:
    sizes, start = {}, 0
    for name, end in splits:
        sizes[name], start = end - start, end
    return sizes


def split_of(index: int, splits: Splits) -> str:
    for name, end in splits:
        if index < end:
            return name
    return splits[-1][0]


def chunk_starts(count: int, jobs: int) -> tuple[int, range]:
    """``(chunk size, chunk starts)``: about 8 chunks per worker, so a slow chunk does not hold up the rest."""
    chunk = max(1, -(-count // (max(1, jobs) * 8)))
    return chunk, range(0, count, chunk)


def run_chunks(work: Iterable[Job], run: Callable[[Job], Result], jobs: int) -> tuple[list[Result], float]:
    """Run ``run`` on every chunk, in this process when ``jobs`` is 1, else in worker processes (in order).

    Returns the results and the seconds taken.
    """
    started = time.perf_counter()
    if max(1, jobs) == 1:
        results = [run(job) for job in work]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(run, work))
    return results, time.perf_counter() - started
