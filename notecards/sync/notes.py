"""What Anki should hold for each vault note, in the two forms a sync handles it in.

A note whose source is unchanged since the last push is never rendered (`Unrendered`): nothing
about it can have changed in the vault. A note that changed, one Anki lost, and every new
block become `Rendered`, a new object made from the unrendered one, so no step hands on a
note another step still has to finish. (New blocks are rendered only while the adds are sent,
by the push step, which makes their `Rendered` then.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notecards.model import Dependency, MediaRef, Note, RenderedNote
from notecards.problems import Problem

if TYPE_CHECKING:
    from notecards.render import Renderer


@dataclass(frozen=True)
class Unrendered:
    note: Note
    source_digest: str  # of what the note's HTML follows from (read_vault.source_digest)
    media: tuple[MediaRef, ...] = ()  # what the last push stored for it


@dataclass(frozen=True)
class Rendered:
    note: Note
    source_digest: str
    fields: dict[str, str]  # field name -> the HTML Anki should hold
    media: tuple[MediaRef, ...] = ()
    deps: tuple[Dependency, ...] = ()  # what its links and embeds resolved to
    # Besides its own text, what made it change since the last push (an embed that reads
    # otherwise, a link that names another file), as the user wrote it: for --dry-run.
    because: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()  # the renderer's: an embed it could not show


SyncNote = Unrendered | Rendered


def render(renderer: Renderer, item: SyncNote) -> Rendered:
    """The note rendered (as it is, when it already is); raises NotecardsError."""
    if isinstance(item, Rendered):
        return item
    return _as_rendered(item, renderer.render(item.note))


def _as_rendered(item: Unrendered, out: RenderedNote) -> Rendered:
    return Rendered(
        item.note, item.source_digest, dict(out.fields), out.media, out.deps, warnings=out.warnings
    )


def render_each(
    renderer: Renderer,
    items: Iterable[SyncNote],
    done: Callable[[int], None] = lambda n: None,
    started: Callable[[], None] = lambda: None,
) -> tuple[list[Rendered], list[Problem]]:
    """The notes that render, and the problems of those that don't (many of them on every
    core: render/pool.py). `done` hears how many notes each step finished; `started` is
    called once they are rendering (`render_all`)."""
    from notecards.render.pool import render_all  # (multiprocessing: only when rendering)

    items = list(items)
    todo = [item for item in items if not isinstance(item, Rendered)]
    outcomes = iter(render_all(renderer, [item.note for item in todo], done, started))
    ready: list[Rendered] = []
    problems: list[Problem] = []
    for item in items:
        if isinstance(item, Rendered):
            ready.append(item)
            continue
        outcome = next(outcomes)
        if isinstance(outcome, RenderedNote):
            ready.append(_as_rendered(item, outcome))
            problems += outcome.warnings  # rendered now: not yet said
        else:
            problems += outcome
    return ready, problems
