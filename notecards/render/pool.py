"""Rendering many notes on every core: a pool of worker processes, past a threshold.

markdown-it is pure Python, so one process renders on one core. A build (or sync) with many
notes to render hands them to as many workers as there are cores; each worker has its own
`Renderer` over the same settings and vault, so the HTML is what one process would write,
note for note, and comes back in order, each chunk as soon as it is rendered (the parent's
own work on the first overlaps the workers' rendering of the rest). Notes the cache already
holds are taken from it here first (a worker never sees the cache file); what the workers
render is put into it. Below
`POOL_THRESHOLD` notes to render, or on one core, no worker is started: a small vault pays
nothing. `NOTECARDS_RENDER_POOL=<n>` sets the threshold (0 forces a pool of at least two
workers, even on one core: tests use it to check the pool against one process; a large
number turns it off).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

from notecards.config import VaultConfig
from notecards.model import Note, RenderedNote
from notecards.problems import NotecardsError, Problem
from notecards.render.cache import RenderCache
from notecards.render.renderer import NotCached, Renderer

POOL_ENV = "NOTECARDS_RENDER_POOL"
POOL_THRESHOLD = 400  # notes to render before workers pay for their start (~0.1 s each)
_CHUNK = 32  # notes per message to a worker

# What rendering one note gave: the note rendered, or the problems that stopped it.
Outcome = RenderedNote | list[Problem]


def render_all(
    renderer: Renderer,
    notes: Sequence[Note],
    done: Callable[[int], None] = lambda count: None,
    started: Callable[[], None] = lambda: None,
) -> list[Outcome]:
    """Every note rendered (or its problems), in order, as `renderer.render` gives it, the
    notes that miss the cache in worker processes when there are enough of them. `done`
    hears how many notes each step finished (a progress bar); `started` is called once the
    rendering is under way (as `RenderFeed.outcomes`)."""
    with RenderFeed(renderer) as feed:
        feed.add(notes)
        return list(feed.outcomes(done, started))


class RenderFeed:
    """`render_all` for notes handed over as they are parsed: once enough of them miss the
    cache to start the pool, the workers render each chunk while the files after it are
    parsed (a first build of 20,000 files parsed for 1.5 s before any rendering began). The
    outcomes are the same, in the same order: a worker renders what one process would. Used
    as a context manager: leaving it stops the workers (a load that found errors renders
    nothing more)."""

    def __init__(self, renderer: Renderer):
        self.renderer = renderer
        self._threshold = _threshold()
        self._workers = max(_workers(), 2) if self._threshold == 0 else _workers()
        self._notes: list[Note] = []
        self._outcomes: list[Outcome | None] = []
        self._missing: list[int] = []  # the notes to render, by index
        self._sent = 0  # how many of `_missing` went to the workers
        self._chunks: list[tuple[list[int], AsyncResult]] = []
        self._pool: Pool | None = None
        self._back = 0  # the first chunks the workers gave back (told by `rendered`)
        self._back_notes = 0  # their notes
        # A cache file that stores nothing (a first build) is not asked: each note goes to
        # the workers, its fields' keys made there alone (0.1 s of the parent's CPU per
        # 10,000 notes); a field two notes share is rendered at most once by each worker.
        cache = renderer.cache
        self._lookups = self._workers >= 2 and cache is not None and not cache.stores_nothing()

    def __enter__(self) -> RenderFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def add(self, notes: Iterable[Note]) -> None:
        """More notes, after those added before (one process renders them all at `outcomes`)."""
        renderer, outcomes = self.renderer, self._outcomes
        for note in notes:
            self._notes.append(note)
            outcomes.append(None)
            if self._workers < 2:
                continue
            if not self._lookups:
                self._missing.append(len(outcomes) - 1)
                continue
            try:
                outcomes[-1] = renderer.cached(note)
            except NotCached:
                self._missing.append(len(outcomes) - 1)
            except NotecardsError as error:
                outcomes[-1] = error.problems
        if self._workers >= 2 and len(self._missing) >= max(self._threshold, 1):
            self._send(whole_chunks=True)

    def rendered(self) -> int:
        """How many of the notes added so far are rendered (from the cache, or in chunks the
        workers have done): a count to show while the files are still parsed."""
        if self._workers < 2:
            return 0  # (each is rendered at `outcomes`)
        chunks = self._chunks
        while self._back < len(chunks) and chunks[self._back][1].ready():
            self._back_notes += len(chunks[self._back][0])
            self._back += 1
        return len(self._notes) - len(self._missing) + self._back_notes

    def outcomes(
        self,
        done: Callable[[int], None] = lambda count: None,
        started: Callable[[], None] = lambda: None,
    ) -> Iterator[Outcome]:
        """Every note added, rendered (or its problems), in order, each as soon as it is:
        the caller works on the first chunks while the workers render the rest. `done` as
        `render_all`'s. `started` is called once every note is with the workers (or just
        before this process renders them): what needs no rendered note, such as a request
        to Anki on a thread, goes on meanwhile (a thread started before the workers would
        have them spawned, not forked: `_started`)."""
        notes, outcomes = self._notes, self._outcomes
        by_workers = self._pool is not None or len(self._missing) >= self._threshold
        if by_workers:
            self._send(whole_chunks=False)
        started()
        if self._workers < 2:
            for index, note in enumerate(notes):
                outcomes[index] = _outcome(self.renderer.render, note)
        done(len(notes) - len(self._missing) if self._workers >= 2 else len(notes))
        if not by_workers:
            for index in self._missing:
                outcomes[index] = _outcome(self.renderer.render, notes[index])
                done(1)
        chunks = iter(self._chunks)
        for index, outcome in enumerate(outcomes):
            while outcome is None:  # rendered in a chunk not back yet (chunks go in order)
                self._receive(*next(chunks), done)
                outcome = outcomes[index]
            yield outcome
        self._chunks = []
        self._stop()  # (not idle through the rest of the build)

    def _receive(
        self, indices: list[int], result: AsyncResult, done: Callable[[int], None]
    ) -> None:
        """A chunk's outcomes, waited for, in their places; its new entries in the cache."""
        rendered, new = result.get()
        if self.renderer.cache is not None:
            self.renderer.cache.put_rows(new)
        for index, outcome in zip(indices, rendered, strict=True):
            if isinstance(outcome, tuple):
                outcome = RenderedNote(self._notes[index], *outcome)
            self._outcomes[index] = outcome
        done(len(indices))

    def _send(self, *, whole_chunks: bool) -> None:
        """The notes to render not sent yet, to the workers (started on first need), in
        chunks of `_CHUNK` (`whole_chunks`: a last part chunk waits for more)."""
        missing = self._missing
        while len(missing) - self._sent >= (_CHUNK if whole_chunks else 1):
            indices = missing[self._sent : self._sent + _CHUNK]
            self._sent += len(indices)
            chunk = [_for_worker(self._notes[index]) for index in indices]
            self._chunks.append((indices, self._started().apply_async(_render_chunk, (chunk,))))

    def _started(self) -> Pool:
        """The workers, forked where that is safe (they start with everything imported):
        not while another thread runs (a file watcher's), whose locks a fork would copy held."""
        if self._pool is None:
            forking = (
                "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
            )
            context = multiprocessing.get_context("fork" if forking else "spawn")
            settings = (self.renderer.config, self.renderer.root)
            self._pool = context.Pool(self._workers, _start_worker, settings)
        return self._pool


# What `Renderer.render` reads of a note: all a worker is sent of it.
_Sent = tuple[str, dict[str, str], str, int, dict[str, int], dict[str, str]]


def _for_worker(note: Note) -> _Sent:
    """The note as a worker gets it: not its spans, tags, deck and ID slot, which rendering
    never reads (pickled and read back, they cost 0.13 of the 0.20 s of CPU spent sending
    10,000 notes)."""
    return note.note_type, note.fields, note.path, note.start_line, note.field_lines, note.appendix


def _received(sent: _Sent) -> Note:
    note_type, fields, path, line, field_lines, appendix = sent
    return Note(
        note_type=note_type,
        fields=fields,
        tags=(),
        deck="",
        note_id=None,
        path=path,
        start_line=line,
        end_line=line,
        appendix=appendix,
        field_lines=field_lines,
    )


def _outcome(render: Callable[[Note], RenderedNote], note: Note) -> Outcome:
    try:
        return render(note)
    except NotecardsError as error:
        return error.problems


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _threshold() -> int:
    try:
        return int(os.environ[POOL_ENV])
    except (KeyError, ValueError):
        return POOL_THRESHOLD


_worker: Renderer | None = None


def _start_worker(config: VaultConfig, root: Path) -> None:
    """A worker's own renderer (an empty cache, to hand back what it renders). Ctrl-C is
    the parent's to handle: it stops the pool."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Forked while the parent loads the vault with its collector off (bulk.py): what it had
    # then is frozen out of the worker's collections, as the parent freezes it after.
    gc.freeze()
    gc.enable()
    _worker = Renderer(config, root, RenderCache())


def _render_chunk(
    notes: list[_Sent],
) -> tuple[list[tuple | list[Problem]], list[tuple[str, str, str, str]]]:
    """Each note's fields, media, deps and warnings (not the note: the parent has it), or its
    problems; and the cache entries made, as rows."""
    assert _worker is not None and _worker.cache is not None
    outcomes: list[tuple | list[Problem]] = []
    for sent in notes:
        outcome = _outcome(_worker.render, _received(sent))
        if isinstance(outcome, RenderedNote):
            outcomes.append((outcome.fields, outcome.media, outcome.deps, outcome.warnings))
        else:
            outcomes.append(outcome)
    return outcomes, _worker.cache.take_rows()
