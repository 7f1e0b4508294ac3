"""Step 1 of a sync: what each vault note should be in Anki, rendering only what changed.

A note is rendered when it is new (a block without an ID), when its source changed since the
last push, when a file one of its links or embeds names is now another, or when there is no
record of it; every rendered note is held to the rules `check` applies before anything is
sent (render/checks.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cached_property

from notecards.hashing import file_list_digest, key, settings_digest
from notecards.model import MediaRef, Note, RenderedNote
from notecards.output import Reporter
from notecards.problems import NotecardsError, Problem, errors
from notecards.render import Renderer, note_problems
from notecards.sync.notes import Rendered, SyncNote, Unrendered, render_each
from notecards.sync.plan import needs_render
from notecards.sync.state import PushedNote, SyncState
from notecards.vault import Vault


def source_digest(note: Note, settings: str) -> str:
    """What a note's rendering depends on: its text, type, tags, deck, and the settings
    (`settings_digest`). Neither its ID nor its line: moving a block or writing its ID does
    not change it."""
    # The strings joined, behind their counts and lengths (which keep them apart, whatever
    # they hold): exact, and 20x quicker than their repr, which escapes every character.
    parts = (note.note_type, *note.fields, *note.fields.values(), *note.tags, note.deck,
             *note.appendix, *note.appendix.values())  # fmt: skip
    counts = f"{len(note.fields)} {len(note.tags)} {len(note.appendix)}:"
    return key(counts + ",".join(map(str, map(len, parts))), "".join(parts), settings)


def vault_notes(
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    reporter: Reporter,
    force: bool,
    rendering: Callable[[set[int]], None] = lambda note_ids: None,
) -> tuple[list[SyncNote], list[Problem]]:
    """Each note with what Anki should hold, and the rules' warnings; only new notes and notes
    changed since the last push render (their source, or a file one of their links or embeds
    names). Raises NotecardsError with every error of the notes that do not render or break a
    rule: nothing may be sent then. `rendering` hears the IDs of the notes to render once
    they are rendering: Anki is asked about them meanwhile (sync/asking.py)."""
    settings = settings_digest(vault.config.content_settings())
    links = _LinkCheck(renderer, state)
    items: list[SyncNote] = []
    changed: list[int] = []
    for note in vault.parsed.notes:
        digest = source_digest(note, settings)
        pushed = state.notes.get(note.note_id) if note.note_id is not None else None
        if note.note_id is None or needs_render(note, digest, state, links.hold, force):
            changed.append(len(items))
        media = tuple(MediaRef(source, name) for source, name in pushed.media) if pushed else ()
        items.append(Unrendered(note, digest, media if note.note_id is not None else ()))
    to_render = [items[i] for i in changed]
    note_ids = {item.note.note_id for item in to_render if item.note.note_id is not None}
    with reporter.counting(len(to_render), "rendering") as done:
        rendered, problems = render_checked(
            renderer, to_render, done, started=lambda: rendering(note_ids)
        )
    for index, item in zip(changed, rendered, strict=True):
        because = changed_references(renderer, state.notes.get(item.note.note_id), item.note.path)
        items[index] = replace(item, because=because) if because else item
    return items, problems


def changed_references(renderer: Renderer, pushed: PushedNote | None, path: str) -> tuple[str, ...]:
    """What of a note pushed earlier, now at `path`, reads otherwise besides its own text:
    each embed whose text changed or link that names another file, as written in the note."""
    if pushed is None or not pushed.deps:
        return ()
    changes = renderer.changed_deps(json.loads(pushed.deps), path)
    return tuple(dict.fromkeys(_described(kind, reference) for kind, reference, _ in changes))


def _described(kind: str, reference: str) -> str:
    written = reference.rpartition("\0")[2]
    if kind == "embed":
        return f"embed ![[{written}]] changed"
    if kind == "note":
        return f"link [[{written}]] names another note"
    if kind == "media":
        return f"media {written} is another file"
    return "the note's own file moved"  # a link to a heading of the note itself


def render_checked(
    renderer: Renderer,
    items: Iterable[SyncNote],
    done: Callable[[int], None] = lambda n: None,
    started: Callable[[], None] = lambda: None,
) -> tuple[list[Rendered], list[Problem]]:
    """The notes rendered and held to check's rules; their warnings. Raises NotecardsError
    with every error (one note that does not render or breaks a rule stops the sync).
    `done` hears how many notes each step rendered (a progress bar); `started` is called
    once they are rendering (`render_each`)."""
    rendered, problems = render_each(renderer, items, done, started)
    for item in rendered:
        as_note = RenderedNote(item.note, item.fields, item.media, item.deps)
        problems += note_problems(as_note, renderer.config)
    if errors(problems):
        raise NotecardsError(problems)
    return rendered, problems


class _LinkCheck:
    """Whether the links and embeds of a note pushed earlier still name the files they named.

    What a link resolves to depends only on the vault's file list and the note's folder, so
    with the very files the state's records were checked under and the note where it was,
    links hold without a look. An embed depends on the embedded text too, so a note with one
    is always resolved again, as is every note against a changed file list."""

    def __init__(self, renderer: Renderer, state: SyncState):
        self._renderer = renderer
        self._checked_under = state.vault_files

    @cached_property
    def _same_files(self) -> bool:
        return self._checked_under == files_digest(self._renderer)

    def hold(self, pushed: PushedNote, path: str) -> bool:
        if not pushed.deps:
            return True
        if pushed.path == path and self._same_files and '["embed",' not in pushed.deps:
            return True
        return self._renderer.still_resolves(json.loads(pushed.deps), path)


def files_digest(renderer: Renderer) -> str:
    """The vault's file list as the renderer sees it, which decides every link."""
    return file_list_digest(renderer.index.files, renderer.index.outside)
