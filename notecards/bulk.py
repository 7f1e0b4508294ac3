"""Large stored documents made into objects that the cycle collector leaves alone.

Loading the parse cache or the sync state of a 10,000-card vault allocates about a million
objects (lists, dicts, strings, notes): plain data, which makes no reference cycle and lives
until the command ends. The collections their allocation sets off, and every later full one,
walked them all: 0.14 s of a one-card edit of that vault. So they are made with the collector
off and then frozen (`gc.freeze`), out of its later walks; reference counting frees them as
ever. A process that runs on after a command (watch, a test run) gives them back to it with
`release`, so that no garbage cycle frozen with them stays.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """The block's objects (and every other alive then) frozen, made with the collector off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def release() -> None:
    """The frozen objects back to the collector (the next full collection walks them)."""
    gc.unfreeze()
