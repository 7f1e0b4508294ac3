"""Rendering many notes on every core: a pool of worker processes, past a threshold.

markdown-it is pure Python, so one process renders on one core. A build (or sync) with many
notes to render hands them to as many workers as there are cores; each worker has its own
`Renderer` over the same settings and vault, so the HTML is what one process would write,
note for note, and comes back in order. Notes the cache already holds are taken from it here
first (a worker never sees the cache file); what the workers render is put into it. Below
`POOL_THRESHOLD` notes to render, or on one core, no worker is started: a small vault pays
nothing. `NOTECARDS_RENDER_POOL=<n>` sets the threshold (0 forces a pool of at least two
workers, even on one core: tests use it to check the pool against one process; a large
number turns it off).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from notecards.config import VaultConfig
from notecards.model import Note, RenderedNote
from notecards.problems import NotecardsError, Problem
from notecards.render.cache import CachedField, RenderCache
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
) -> list[Outcome]:
    """Every note rendered (or its problems), in order, as `renderer.render` gives it, the
    notes that miss the cache in worker processes when there are enough of them. `done`
    hears how many notes each step finished (a progress bar)."""
    outcomes: list[Outcome | None] = [None] * len(notes)
    missing: list[int] = []
    threshold = _threshold()
    workers = max(_workers(), 2) if threshold == 0 else _workers()
    for index, note in enumerate(notes):
        if workers < 2:
            outcomes[index] = _outcome(renderer.render, note)
            continue
        try:
            outcomes[index] = renderer.cached(note)
        except NotCached:
            missing.append(index)
        except NotecardsError as error:
            outcomes[index] = error.problems
    done(len(notes) - len(missing))
    if len(missing) < threshold:
        for index in missing:
            outcomes[index] = _outcome(renderer.render, notes[index])
            done(1)
    else:
        todo = [notes[i] for i in missing]
        for index, outcome in zip(missing, _in_workers(renderer, todo, workers, done), strict=True):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


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


def _in_workers(
    renderer: Renderer, notes: list[Note], workers: int, done: Callable[[int], None]
) -> Iterator[Outcome]:
    """The notes rendered by `workers` processes, in order; what they rendered goes into the
    renderer's cache. Forked where that is safe (the workers start with everything imported):
    not while another thread runs (a file watcher's), whose locks a fork would copy held."""
    forking = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    context = multiprocessing.get_context("fork" if forking else "spawn")
    chunks = [notes[i : i + _CHUNK] for i in range(0, len(notes), _CHUNK)]
    settings = (renderer.config, renderer.root)
    with context.Pool(min(workers, len(chunks)), _start_worker, settings) as pool:
        for chunk, (outcomes, new) in zip(chunks, pool.imap(_render_chunk, chunks), strict=True):
            if renderer.cache is not None:
                for key, value in new.items():
                    renderer.cache.put(key, value)
            for note, outcome in zip(chunk, outcomes, strict=True):
                yield RenderedNote(note, *outcome) if isinstance(outcome, tuple) else outcome
            done(len(chunk))


_worker: Renderer | None = None


def _start_worker(config: VaultConfig, root: Path) -> None:
    """A worker's own renderer (an empty cache, to hand back what it renders). Ctrl-C is
    the parent's to handle: it stops the pool."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker = Renderer(config, root, RenderCache())


def _render_chunk(
    notes: list[Note],
) -> tuple[list[tuple | list[Problem]], dict[str, CachedField]]:
    """Each note's fields, media, deps and warnings (not the note: the parent has it), or its
    problems; and the cache entries made."""
    assert _worker is not None and _worker.cache is not None
    outcomes: list[tuple | list[Problem]] = []
    for note in notes:
        outcome = _outcome(_worker.render, note)
        if isinstance(outcome, RenderedNote):
            outcomes.append((outcome.fields, outcome.media, outcome.deps, outcome.warnings))
        else:
            outcomes.append(outcome)
    return outcomes, _worker.cache.take_new()
