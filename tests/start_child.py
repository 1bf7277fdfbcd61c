"""A worker's start-up in its own process, for the test of workers starting together."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from storage.db import Database


def start_worker(url: str, start: Barrier, failures: Queue[str]) -> None:
    """Wait for the others, then open the database as `tiendo run` does (migrating it if
    it is behind); report a failure on the queue."""
    start.wait()
    try:
        Database.open(url).dispose()
    except Exception as exc:  # the test reports whatever a worker died of
        failures.put(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
