"""Crash safety for `notecards sync`: the journal of adds and the recovery of an interrupted run.

A sync killed between adding a note (by `addNotes`, or by importing it under an ID chosen in
advance) and writing its ID into the file would add it again next time. Adds are therefore
journaled in the state (its `pending_tag`, set before the first add) and every new note carries
the vault's one pending tag, `notecards::pending::<vault key>`: one tag name per vault, not per
note, because Anki keeps a removed tag in its tag list. A re-run first looks for pending notes:
one whose ID is already in the vault just loses its tag; one whose fields and note type are
exactly those an ID-less block renders to gets its ID written; one journaled by an earlier run
that matches no block (its block is gone or changed) is deleted (nobody else knows its ID). A
pending note of another vault, or one this vault no longer journals, is left alone.

The crash tests stop a real sync at each of FAULT_STEPS (`notecards.faults`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from pathlib import Path

from notecards.hashing import vault_tag
from notecards.output import Reporter
from notecards.problems import NotecardsError, Problem
from notecards.render import Renderer
from notecards.sync.notes import SyncNote, render
from notecards.sync.state import PENDING_TAG, SyncState, save_state
from notecards.targets.ankiconnect import AnkiConnect, AnkiNote
from notecards.vault import Vault, write_back

FAULT_STEPS = (
    "journaled",
    "decks_created",
    "media_stored",
    "notes_added",
    "decks_fixed",
    "updated",
    "deleted",
    "ids_written",
    "pending_cleared",
)


def pending_tag(root: Path) -> str:
    """The vault's one pending tag: stable across runs (so Anki's tag list gains at most one
    name), distinct per vault (so a recovery never deletes another vault's pending note)."""
    return PENDING_TAG + vault_tag(root)


def recover(
    client: AnkiConnect,
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    items: Sequence[SyncNote],
    pending: Sequence[int],
    in_anki: Collection[int],
    reporter: Reporter,
) -> tuple[list[str], list[Problem]]:
    """Finish what an interrupted sync left: IDs into files, pending tags off, orphans out.
    Returns a line per note it recovered, and the problems of writing their IDs (then nothing
    else was changed: the caller stops, and the next run tries again).

    `in_anki`: the vault's IDs Anki has; a block whose ID is not among them may have been
    re-added by the interrupted run, so it is a candidate too."""
    reporter.info(f"recovering {len(pending)} note(s) added by an interrupted sync")
    infos = client.notes_info(pending)
    vault_ids = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    candidates = _candidates(renderer, [i for i in items if i.note.note_id not in in_anki])
    to_write: dict[tuple[str, int], int] = {}
    done, orphans, lines = [], [], []
    for note_id in sorted(infos):  # ids grow with time: the k-th copy claims the k-th block
        info = infos[note_id]
        waiting = candidates.get(_content(info.model, info.fields), [])
        if note_id in vault_ids:
            done.append(note_id)
        elif waiting:
            item = waiting.pop(0)
            to_write[(item.note.path, item.note.start_line)] = note_id
            lines.append(f"{item.note.location}: note {note_id} (ID written)")
        elif state.pending_tag and _tag_of(info).casefold() == state.pending_tag.casefold():
            orphans.append(note_id)
        else:
            reporter.info(f"note {note_id} carries {_tag_of(info)} from another vault; left")
    result = write_back(
        vault.root, vault.parsed.files, to_write, config=vault.config, notes=vault.parsed.notes
    )
    if result.problems:
        return [], result.problems
    done += list(to_write.values())
    by_tag: dict[str, list[int]] = defaultdict(list)
    for note_id in done:
        by_tag[_tag_of(infos[note_id])].append(note_id)
    client.multi([("removeTags", {"notes": ids, "tags": tag}) for tag, ids in by_tag.items()])
    if orphans:
        client.invoke("deleteNotes", notes=orphans)
    state.pending_tag = ""
    save_state(vault.root, state)
    return lines + [
        f"note {n}: added twice by an interrupted sync; extra copy deleted" for n in orphans
    ], []


def _candidates(renderer: Renderer, items: Sequence[SyncNote]) -> dict[tuple, list[SyncNote]]:
    """What each block that may have been added renders to -> those blocks, in vault order."""
    found: dict[tuple, list[SyncNote]] = defaultdict(list)
    for item in items:
        try:
            fields = render(renderer, item).fields
        except NotecardsError:
            continue  # never rendered, so never added
        found[_content(item.note.note_type, fields)].append(item)
    return found


def _content(model: str, fields: dict[str, str]) -> tuple:
    return (model.casefold(), tuple(sorted(fields.items())))


def _tag_of(info: AnkiNote) -> str:
    return next(t for t in info.tags if t.casefold().startswith(PENDING_TAG))
