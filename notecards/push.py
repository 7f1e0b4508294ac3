"""Push a planned change into Anki through AnkiConnect: decks, media, adds, updates, deletes.

Split from sync.py, which decides what happens and in which order, so that each kind of change is
one small function that batches its requests and turns what Anki refuses into problems; none of
them writes the vault's markdown or the recovery journal.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from notecards.importer import ImportResult, import_notes
from notecards.model import Note, NotecardsError, Problem
from notecards.output import Reporter
from notecards.plan import Add, MediaUpload, Plan, Target
from notecards.render import Renderer
from notecards.state import PushedMedia, SyncState
from notecards.targets.ankiconnect import AnkiConnect, AnkiConnectError, NewNote
from notecards.vault import Vault

# Adds go in batches this big: one request each; the next batch renders while one is sent.
ADD_BATCH = 250
FIRST_ADD_BATCH = 50


def run(client: AnkiConnect, actions: list[tuple[str, dict[str, Any]]], what: str) -> list[str]:
    """Send `actions` in one `multi`; the errors, as sentences."""
    answers = client.multi(actions)
    return [f"{what}: {error}" for (_, error) in answers if error]


def problem_at(note: Note | None, message: str) -> Problem:
    if note is None:
        return Problem(".notecards", 1, message)
    return Problem(note.path, note.start_line, message)


def create_decks(client: AnkiConnect, decks: Sequence[str], reporter: Reporter) -> dict[str, int]:
    """Create `decks` in one `multi`; casefolded name -> new deck id."""
    if not decks:
        return {}
    reporter.info(f"creating {len(decks)} deck(s)")
    answers = client.multi_or_raise([("createDeck", {"deck": d}) for d in decks])
    return {deck.casefold(): deck_id for deck, (deck_id, _) in zip(decks, answers, strict=True)}


@dataclass(frozen=True)
class LocalMedia:
    """An embedded vault file this sync read (to hash it): its record for the state, and its
    bytes, which are what gets uploaded (each file is read once)."""

    record: PushedMedia
    data: bytes


def store_media(
    client: AnkiConnect,
    uploads: Sequence[MediaUpload],
    read: dict[str, LocalMedia],
    state: SyncState,
    problems: list[Problem],
) -> None:
    """Send the files in one `multi`; `read` has each (a file is planned for upload only if its
    hash differs from the state's, and a file the state matches by size and mtime is not read,
    so its hash is the state's)."""
    actions = [
        (
            "storeMediaFile",
            {
                "filename": m.anki_name,
                "data": base64.b64encode(read[m.anki_name].data).decode("ascii"),
            },
        )
        for m in uploads
    ]
    for upload, (_, error) in zip(uploads, client.multi(actions), strict=True):
        if error:
            problems.append(Problem(upload.source, 1, f"Anki refused the file: {error}"))
        else:
            state.media[upload.anki_name] = read[upload.anki_name].record


def add(
    client: AnkiConnect,
    vault: Vault,
    renderer: Renderer,
    journal: list[Add],
    restore: list[Add],
    tag: str,
    problems: list[Problem],
    reporter: Reporter,
    *,
    local: bool,
) -> tuple[ImportResult, list[tuple[Add, int]]]:
    """Add the journaled notes, each tagged with the pending `tag`, and re-create the `restore`
    ones under their own IDs: what was imported, and (add, new id) per note `addNotes` took.

    With Anki on this machine (`local`), one package import does it (importer.py); what the
    import cannot take goes through `addNotes`."""
    imported = ImportResult(left=list(journal))
    if local and (journal or restore):
        ready, render_problems = _render_batch(renderer, reporter.progress(journal, "rendering"))
        problems.extend(render_problems)
        avoid = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
        imported = import_notes(client, vault, ready, restore, tag, avoid, problems, reporter)
    return imported, _add_notes(client, renderer, imported.left, tag, problems, reporter)


def _add_notes(
    client: AnkiConnect,
    renderer: Renderer,
    journal: list[Add],
    tag: str,
    problems: list[Problem],
    reporter: Reporter,
) -> list[tuple[Add, int]]:
    """Add notes through `addNotes`; (add, new id) per success.

    Blocks not rendered yet are rendered here, in a worker thread, one batch ahead of the
    `addNotes` in flight: Anki's time hides the rendering. A block that fails to render is
    reported and not added; the others are (the vault and Anki stay consistent either way).
    Only the worker renders while the main thread sends or waits, so `renderer` is shared."""
    if not journal:
        return []
    reporter.info(f"adding {len(journal)} note(s)")
    # A small first batch: Anki starts adding after 50 renders, not 250.
    starts = [0, *range(FIRST_ADD_BATCH, len(journal), ADD_BATCH)]
    batches = [journal[i:j] for i, j in zip(starts, [*starts[1:], len(journal)], strict=True)]
    added = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        next_batch = worker.submit(_render_batch, renderer, batches[0])
        for index in range(len(batches)):
            batch, render_problems = next_batch.result()
            if index + 1 < len(batches):
                next_batch = worker.submit(_render_batch, renderer, batches[index + 1])
            problems.extend(render_problems)
            added += _add_batch(client, batch, tag, problems)
            reporter.info(f"added {len(added)}/{len(journal)}")
    return added


def _render_batch(renderer: Renderer, batch: Iterable[Add]) -> tuple[list[Add], list[Problem]]:
    """The batch's notes that render (fields filled in), and the problems of those that don't."""
    ready, problems = [], []
    for add in batch:
        failed = render_into(renderer, add.target) if add.target.fields is None else []
        problems += failed
        if not failed:
            ready.append(add)
    return ready, problems


def render_into(renderer: Renderer, target: Target) -> list[Problem]:
    """Fill in the target's fields, media and deps from its note; its problems if it can't."""
    try:
        rendered, target.deps = renderer.render_tracked(target.note)
    except NotecardsError as exc:
        return exc.problems
    target.fields, target.media = dict(rendered.fields), tuple(rendered.media)
    return []


def _add_batch(
    client: AnkiConnect, batch: list[Add], tag: str, problems: list[Problem]
) -> list[tuple[Add, int]]:
    notes = [
        NewNote(
            deck=a.target.note.deck,
            model=a.target.note.note_type,
            fields=a.target.fields,  # type: ignore[arg-type]
            tags=(*a.target.note.tags, tag),
        )
        for a in batch
    ]
    result = client.add_notes(notes)
    added = []
    for add, nid, error in zip(batch, result.ids, result.errors, strict=True):
        if nid is None:
            problems.append(problem_at(add.target.note, f"Anki refused the note: {error}"))
        else:
            added.append((add, nid))
    return added


def fix_decks(
    client: AnkiConnect,
    added: list[tuple[Add, int]],
    imported: ImportResult,
    deck_ids: dict[str, int],
    tag: str,
    problems: list[Problem],
) -> set[int]:
    """Some add-on releases file every new card in Default: look, and move the ones misfiled.

    One request asks, per deck, for the new cards not in it (`did:` excludes subdecks), and
    whether the imported notes are there under the IDs chosen for them; a second one moves cards
    only if some are misfiled. Returns the new notes' ids Anki really has: an imported note Anki
    filed under another ID stays journaled, so the next run finds it by its pending tag."""
    everything = added + imported.added + imported.restored
    notes_in: dict[str, list[int]] = defaultdict(list)
    for add, nid in everything:
        notes_in[add.target.note.deck].append(nid)
    if not notes_in:
        return set()
    decks = sorted(notes_in)
    actions = [
        ("findCards", {"query": f"nid:{_ids(notes_in[d])} -did:{deck_ids[d.casefold()]}"})
        for d in decks
    ]
    checks = [(group, query) for group, query in (
        (imported.added, f"tag:{tag} nid:"),
        (imported.restored, "nid:"),
    ) if group]  # fmt: skip
    actions += [("findNotes", {"query": query + _ids([n for _, n in g])}) for g, query in checks]
    answers = client.multi_or_raise(actions)
    present = {nid for _, nid in added}
    for found, _ in answers[len(decks) :]:
        present.update(found)
    for add, nid in imported.added + imported.restored:
        if nid not in present:
            problems.append(
                problem_at(add.target.note, f"Anki did not keep note {nid}; run sync again")
            )
    misfiled = [(d, cards) for d, (cards, _) in zip(decks, answers, strict=False) if cards]
    errors = run(
        client, [("changeDeck", {"cards": c, "deck": d}) for d, c in misfiled], "changeDeck"
    )
    problems += [problem_at(None, e) for e in errors]
    return present


def _ids(note_ids: Sequence[int]) -> str:
    return ",".join(map(str, note_ids))


def update(client: AnkiConnect, plan: Plan, problems: list[Problem], reporter: Reporter) -> None:
    """Fields, tags and decks of existing notes, in one `multi`."""
    if not plan.updates:
        return
    reporter.info(f"updating {len(plan.updates)} note(s)")
    actions: list[tuple[str, dict[str, Any]]] = []
    owners: list[str] = []
    for u in plan.updates:
        if u.fields:
            actions.append(("updateNoteFields", {"note": {"id": u.note_id, "fields": u.fields}}))
            owners.append(u.where)
    for name, per_tag in (
        ("addTags", _by_tag(plan, add=True)),
        ("removeTags", _by_tag(plan, add=False)),
    ):
        for tag, notes in per_tag.items():
            actions.append((name, {"notes": notes, "tags": tag}))
            owners.append(f"tag {tag}")
    moves: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        moves[u.deck].extend(u.move_cards)
    for deck, cards in moves.items():
        if cards:
            actions.append(("changeDeck", {"cards": cards, "deck": deck}))
            owners.append(f"deck {deck}")
    for owner, (_, error) in zip(owners, client.multi(actions), strict=True):
        if error:
            path, _, line = owner.rpartition(":")
            where = Problem(path, int(line), error) if line.isdigit() else problem_at(None, error)
            problems.append(where)


def _by_tag(plan: Plan, add: bool) -> dict[str, list[int]]:
    """tag -> notes: one addTags/removeTags per tag, whatever the number of notes."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        for tag in u.add_tags if add else u.remove_tags:
            grouped[tag].append(u.note_id)
    return grouped


def delete(client: AnkiConnect, plan: Plan, problems: list[Problem]) -> bool:
    if not plan.deletes:
        return True
    try:
        client.invoke("deleteNotes", notes=[d.note_id for d in plan.deletes])
    except AnkiConnectError as exc:
        problems.append(problem_at(None, str(exc)))
        return False
    return True
