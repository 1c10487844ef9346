"""Hashing many files on a process pool, streaming results in input order.

At most a few tasks per worker are in flight, so memory stays flat however many files there are,
and results are written as soon as the file at the head of the queue is done.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from redress.hashing.files import FileHashes, HashOptions, hash_file

_IN_FLIGHT_PER_JOB = 4


def hash_files(paths: Iterable[Path], options: HashOptions, jobs: int) -> Iterator[FileHashes]:
    """`hash_file` over `paths` with `jobs` processes (1: in this process), in input order."""
    if jobs <= 1:
        for path in paths:
            yield hash_file(path, options)
        return
    # One decoding thread per worker process: the processes already use every core.
    worker_options = replace(options, video_threads=1)
    pending: deque[Future[FileHashes]] = deque()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path in paths:
            pending.append(pool.submit(hash_file, path, worker_options))
            if len(pending) >= jobs * _IN_FLIGHT_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
