"""One vault, one writer: a build or a sync holds a lock on the vault's folder while it writes.

Two runs at once would each give new blocks IDs counted down from the same moment: the same
ID on different blocks. The lock is an `flock` on the vault folder itself, so it writes nothing
into the vault, and the kernel releases it however the holder ends (a crash, a kill): a lock
left by a dead process is never in the way. A waiting run names the holder's process, which
Linux lists in /proc/locks (elsewhere it says "another process").
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

WAIT_S = 10.0  # how long a second run waits for the first before it gives up
_POLL_S = 0.1
_PROC_LOCKS = Path("/proc/locks")


class VaultBusy(Exception):
    """Another run holds the vault's lock (the message says which process)."""


@contextlib.contextmanager
def vault_lock(
    root: Path, *, wait_s: float | None = None, waiting: Callable[[str], None] = lambda _: None
) -> Iterator[None]:
    """Hold the vault's lock for the `with` block; raises VaultBusy after `wait_s` (WAIT_S)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _acquire(fd, root, WAIT_S if wait_s is None else wait_s, waiting)
        yield
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, root: Path, wait_s: float, waiting: Callable[[str], None]) -> None:
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise VaultBusy(
                    f"{root}: another notecards run ({holder}) is writing this vault; "
                    "try again when it has finished"
                ) from None
            if not told:
                waiting(f"waiting for {holder} to finish writing {root}")
                told = True
            time.sleep(_POLL_S)


def _holder(fd: int) -> str:
    """`process N` for the flock on this folder in /proc/locks, else a vaguer phrase."""
    info = os.fstat(fd)
    inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    try:
        lines = _PROC_LOCKS.read_text().splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        if "FLOCK" in fields and inode in fields and "->" not in fields:
            return f"process {fields[fields.index(inode) - 1]}"
    return "another process"
