"""A sync of the files that changed alone: after an edit, when the last sync left nothing to do
(`SyncState.as_left`), and nothing but the bytes of some files changed since, every other
file's notes are as that sync left them, in Anki as in their records (the file list, the
settings, the code, the media all the same, no note of theirs edited or deleted in Anki).
Those files are neither parsed nor planned: their records are kept as they are. A one-card
edit of 10,000 cards spent most of its time parsing, digesting and planning the others. So
does a sync that brings home notes edited in Anki, no file changed: their files alone.

The shortcut is taken only where it cannot be wrong; anything else, and the sync reads every
file (run.py), as it did before: an interrupted sync's adds, a note warned about, --force or
--dry-run (as_left.py), the day's first two-way sync, a media file changed, a note deleted in
Anki (added again), a note that embeds the text of a file read (it renders again), an ID
also in a file not read (a duplicate), a file added, removed or renamed.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Collection, Mapping

from notecards.model import ParsedVault
from notecards.render.inputs import embedded_files, files_digest
from notecards.sync.read_anki import AnkiSnapshot
from notecards.sync.state import PushedNote, SyncState
from notecards.vault.load import VaultFiles


def changed_files(read: VaultFiles, state: SyncState) -> set[str] | None:
    """The files whose bytes changed since a sync left the vault with nothing to do; None
    where anything else may have changed too (the inputs digest, with the bytes that sync
    left, is not its `as_left`: another file list, settings or code), or that sync left
    something to look at again (pending adds, a note warned about)."""
    recorded = state.files
    if read.problems or not state.as_left or state.pending_tag or state.warned != frozenset():
        return None
    files = read.files
    if not recorded or files.keys() != recorded.keys():
        return None
    as_left = {path: dataclasses.replace(s, digest=recorded[path]) for path, s in files.items()}
    if files_digest(read.root, read.config, as_left) != state.as_left:
        return None
    return {path for path, snapshot in files.items() if snapshot.digest != recorded[path]}


# At most this many notes' contents are asked for with the first request, per reason below.
ASK_AT_MOST = 100
# A record Anki modified this recently (seconds) was, most likely, pushed by the sync just
# before (each save in `watch`): where Anki's whole seconds leave its time unsure, a sync
# looks at the note once more (state.mod_as_seen).
RECENT_S = 60


def contents_to_ask(state: SyncState, changed: Collection[str]) -> set[int]:
    """The notes whose contents the sync of the `changed` files likely needs, asked for with
    its first request (as_left.py) rather than in one more: those recorded in those files
    (one changed, most likely), and those Anki modified in the last seconds; each of the
    two left out where it is more than a few (a first push of the whole vault)."""
    now = time.time()
    recorded = [nid for nid, record in state.notes.items() if record.path in changed]
    recent = [nid for nid, record in state.notes.items() if record.anki_mod >= now - RECENT_S]
    return {nid for ids in (recorded, recent) if len(ids) <= ASK_AT_MOST for nid in ids}


# Files read alone are parsed without the parse cache (vault/load.py): past this share of the
# vault's files (and a few), the whole vault from the cache costs less. (On the day of a push,
# 2023's `edited:N` finds every note: all 400 files of 10,000 cards parsed anew cost 1.7 s more
# than the whole sync; 4 of them, 0.35 s less.)
ALONE_AT_MOST = 0.1
FEW_FILES = 10


def files_to_read(
    changed: set[str], snapshot: AnkiSnapshot, state: SyncState, known: Collection[int]
) -> set[str] | None:
    """The files a sync of the `changed` ones reads, once Anki answered (of the `known`
    notes, the state's): those, and the files of the notes edited in Anki since (their
    edits come home). None where it must read every file: an interrupted sync's adds are
    in Anki, a recorded note is not (it is added again), a note embeds the text of a file
    to read (it renders again), and where the files of those notes, beyond the `changed`
    ones, are more than a few and more than a tenth of the vault's (ALONE_AT_MOST: on the day
    of a push, 2023's `edited:N` finds every note pushed, and their files read alone miss the
    parse cache)."""
    if snapshot.pending or snapshot.present != set(known):
        return None
    notes = state.notes
    edited = {notes[nid].path for nid in snapshot.edited_since(state)}
    if len(edited - changed) > max(FEW_FILES, ALONE_AT_MOST * len(state.files)):
        return None
    scope = changed | edited
    for record in notes.values():
        deps = record.deps
        if deps and '["embed",' in deps and embedded_files(json.loads(deps)) & scope:
            return None
    return scope


def edited_in_anki_alone(
    snapshot: AnkiSnapshot, state: SyncState, known: Collection[int]
) -> set[str] | None:
    """The files a sync reads where the vault's bytes are as the last sync left them and
    only notes edited in Anki changed (they come home): those notes' files (files_to_read,
    which also says when they are too many). None where it reads every file: as for
    changed_files, a note warned about."""
    if not state.files or state.warned != frozenset():
        return None
    return files_to_read(set(), snapshot, state, known)


def unread_records(state: SyncState, scope: Collection[str]) -> dict[int, PushedNote]:
    """The records of the notes in the files a sync does not read: unchanged."""
    return {nid: record for nid, record in state.notes.items() if record.path not in scope}


def clashes(parsed: ParsedVault, unread: Mapping[int, PushedNote]) -> bool:
    """Whether a note or DELETE line of the files read names a note of a file not read (a
    duplicate ID, which only the whole sync tells)."""
    return any(n.note_id in unread for n in parsed.notes) or any(
        d.note_id in unread for d in parsed.deletions
    )
