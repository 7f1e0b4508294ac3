"""Limits on how long a block may run, so that a hang or a quadratic scan fails a test instead of
stalling it: CPU time (the linear-scan tests tell a linear run, a few CPU seconds at 200k,
from a quadratic one, minutes, whatever else the machine is running) and wall time (for a
wait that uses no CPU, such as a read of a FIFO)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class OverCpuLimit(Exception):
    """Raised inside the block once it has used its CPU seconds."""


@contextmanager
def _at_most(limit: float, timer: int, signum: int, error: Exception) -> Iterator[None]:
    def over(number: int, frame: object) -> None:
        raise error

    previous = signal.signal(signum, over)
    signal.setitimer(timer, limit)
    try:
        yield
    finally:
        signal.setitimer(timer, 0)
        signal.signal(signum, previous)


def cpu_seconds_at_most(limit: float) -> AbstractContextManager[None]:
    """Raise `OverCpuLimit` in the block once the process has spent `limit` CPU seconds in
    it (a pure-Python loop stops at once; a C call, such as one regexp search, at its end)."""
    error = OverCpuLimit(f"over {limit:g} CPU seconds: the work grows faster than the input")
    return _at_most(limit, signal.ITIMER_PROF, signal.SIGPROF, error)


def wall_seconds_at_most(limit: float) -> AbstractContextManager[None]:
    """Raise TimeoutError in the block after `limit` seconds of wall time."""
    error = TimeoutError(f"still running after {limit:g} s")
    return _at_most(limit, signal.ITIMER_REAL, signal.SIGALRM, error)
