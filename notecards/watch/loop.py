"""The watch itself: a run at the start (what changed while nobody watched), then one after
each burst of saves, until Ctrl-C.

Anki closed or busy, or another run writing the vault: the watch says so once, looks again
every `RETRY_S` (one small request to Anki) and runs as soon as it can. A problem (a vault
error at `file:line`) is said once: again only when its file changes, or once it was gone.
Ctrl-C between runs stops at once; during one, once that run has finished, so its state is
saved and the vault's lock released (a second Ctrl-C stops it at once: the sync's steps
leave nothing half-written, and the next run completes what it started).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import NoReturn

from notecards.bulk import release
from notecards.problems import Problem
from notecards.watch.changes import VaultChanges
from notecards.watch.steps import Outcome, Step

RETRY_S = 2.0


def watch(
    changes: VaultChanges,
    step: Step,
    tell: Callable[[Outcome, list[Problem]], None],
    notice: Callable[[str], None],
) -> NoReturn:
    """Run `step` now and after every burst of `changes`, and `tell` each outcome with the
    problems not said before; `notice` a sentence for the user. Ends only by raising
    KeyboardInterrupt (Ctrl-C)."""
    said: set[str] = set()  # the problems of the last run, as formatted
    waiting = False  # the last run could not reach Anki, or found the vault busy
    burst: set[str] | None = set()
    started = False
    with _Interrupts(lambda: notice("stopping once this run has finished")) as interrupts:
        while True:
            if burst is not None:
                with interrupts.during_run():
                    outcome = step.run()
                release()  # what the run froze (bulk.py), back to the collector
                fresh = [p for p in outcome.problems if p.format() not in said or p.path in burst]
                stuck = outcome.unreachable or outcome.busy
                if stuck and waiting:
                    fresh = []  # said when it began
                elif not stuck:  # (while stuck, the vault's problems are not looked at)
                    said = {p.format() for p in outcome.problems}
                waiting = stuck
                tell(outcome, fresh)
                if not started:
                    notice("watching for saves (Ctrl-C stops)")
                    started = True
            burst = changes.next_burst(RETRY_S if waiting else None)
            if burst is None and waiting and step.ready():
                burst = set()  # nothing changed, but what failed can now run


class _Interrupts:
    """SIGINT as KeyboardInterrupt, held back while a run is under way."""

    def __init__(self, holding: Callable[[], None]):
        self._holding = holding
        self._in_run = False
        self._held = False

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self._in_run and not self._held:
            self._held = True
            self._holding()
            return
        raise KeyboardInterrupt

    @contextmanager
    def during_run(self) -> Iterator[None]:
        self._in_run = True
        try:
            yield
        finally:
            self._in_run = False
        if self._held:
            raise KeyboardInterrupt
