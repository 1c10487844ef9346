"""Hashing many files on a process pool, streaming results in input order.

At most a few tasks per worker are in flight, so memory stays flat however many files there are,
and results are written as soon as the file at the head of the queue is done. With a memory
budget, each file's decoding cost is estimated from its header before it is handed to a worker,
and a file waits until what the workers hold plus its cost fits in the budget: N workers never
decode more than the budget at once, whatever the files.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from redress.hashing.files import FileHashes, HashOptions, estimate_cost, hash_file

_IN_FLIGHT_PER_JOB = 4


def hash_files(
    paths: Iterable[Path], options: HashOptions, jobs: int, budget: int | None = None
) -> Iterator[FileHashes]:
    """`hash_file` over `paths` with `jobs` processes (1: in this process), in input order.

    `budget`: bytes the files being decoded at once may take together (None: no limit beyond
    each file's own `max_decode_mb`). A single file never needs more than `max_decode_mb`, so a
    budget at least that large always lets work proceed.
    """
    if jobs <= 1:
        for path in paths:
            yield hash_file(path, options)
        return
    # One decoding thread per worker process: the processes already use every core.
    worker_options = replace(options, video_threads=1)
    pending: deque[tuple[Future[FileHashes], int]] = deque()
    reserved = 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path in paths:
            cost = estimate_cost(path, worker_options) if budget is not None else 0
            while pending and (
                len(pending) >= jobs * _IN_FLIGHT_PER_JOB
                or (budget is not None and reserved + cost > budget)
            ):
                done, held = pending.popleft()
                reserved -= held
                yield done.result()
            pending.append((pool.submit(hash_file, path, worker_options), cost))
            reserved += cost
        while pending:
            yield pending.popleft()[0].result()
