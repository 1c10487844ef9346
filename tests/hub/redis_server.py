"""A real `redis-server` on a free loopback port, for the Redis-backed limits' tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run_redis() -> Iterator[str]:
    """Start redis-server (no persistence) and yield its URL; skipped without the binary, except
    under CI=true, where its absence is a failure."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (CI must have it: apt-get install redis)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    import redis

    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="redress-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    try:
        for _ in range(500):  # until it accepts connections (at most ~10 s)
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if process.poll() is not None:
                    pytest.fail(f"redis-server exited with {process.returncode}")
                _pause(process)  # a short wait that also notices an early exit
        else:
            pytest.fail("redis-server did not start")
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _pause(process: subprocess.Popen[bytes]) -> None:
    with suppress(subprocess.TimeoutExpired):
        process.wait(0.02)
