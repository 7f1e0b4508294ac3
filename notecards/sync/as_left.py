"""A sync with nothing to do, told without parsing a file: the vault's inputs (its bytes, file
list, settings and the code: render/inputs.files_digest) are those a sync left with nothing
left to do (`SyncState.as_left`), its media files are as stored, and the request a sync
starts with (read_anki.py) finds every note in Anki, none pending, and none edited there
since (a note Anki shows modified, as on the day of a push, is told by its fields).
Anything else, and the whole sync runs (run.py), which then records `as_left` anew.

A no-op sync of 10,000 cards spent most of its time parsing (the parse cache), digesting
and planning notes that had not changed; this reads and hashes the files, and loads the
state, only."""

from __future__ import annotations

import posixpath
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from notecards.problems import NotecardsError
from notecards.render.inputs import files_digest
from notecards.sync.options import SyncOptions
from notecards.sync.plan import Plan
from notecards.sync.read_anki import AnkiSnapshot, ask_anki, unedited
from notecards.sync.report import SyncReport
from notecards.sync.scope import (
    changed_files,
    contents_to_ask,
    edited_in_anki_alone,
    files_to_read,
)
from notecards.sync.state import SyncState, load_state, mod_as_seen, save_state, state_snapshot
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault.atomic import remove_stale_temp_files
from notecards.vault.load import VaultFiles, read_vault_files
from notecards.vault.state_dir import STATE_DIR


@dataclass
class Looked:
    """What the check found: the report of a sync with nothing to do; else what it read on
    its way, for the whole sync not to read it again: the vault's files, the state (with
    Anki's word on modification times, if asked), and Anki's answer to the request the
    whole sync starts with, if it was asked (of these `known` notes, none rendered)."""

    report: SyncReport | None = None
    read: VaultFiles | None = None
    state: SyncState | None = None
    known: set[int] = field(default_factory=set)
    snapshot: AnkiSnapshot | None = None
    # The files to read, where the others are as the last sync left them (scope.py); None:
    # every file.
    scope: set[str] | None = None


def unchanged_sync(root: Path, client: AnkiConnect, options: SyncOptions) -> Looked:
    """A sync with nothing to do, having asked Anki once, or what was read finding there may
    be something (nothing was changed then): where only some files' bytes changed, Anki is
    asked the same, and the files the whole sync must read found (scope.py). Not for a dry
    run (it lists the plan), --force or a pull."""
    if options.dry_run or options.force or not options.push:
        return Looked()
    start = client.requests_sent
    try:
        read = read_vault_files(root)
        state = load_state(read.root, client.url)
    except NotecardsError:
        return Looked()  # (the whole sync says why)
    looked = Looked(read=read, state=state)
    if read.problems or not state.as_left or state.pending_tag:
        return looked
    if options.two_way and state.synced_at // 86400 != int(time.time()) // 86400:
        return looked  # the day's first two-way sync asks every note's time, keeps the day
    changed: set[str] | None = set()
    if files_digest(read.root, read.config, read.files) != state.as_left:
        changed = changed_files(read, state)
    if changed is None or not media_as_stored(read.root, state):
        return looked
    known = set(state.notes)
    saved = state_snapshot(state)
    contents = contents_to_ask(state, changed) if changed else ()
    snapshot = ask_anki(
        client, known, contents, state, two_way=options.two_way, after_ankiweb=options.after_ankiweb
    )
    looked.known, looked.snapshot = known, snapshot
    if changed:  # (some files' bytes alone: the whole sync reads those)
        looked.scope = files_to_read(changed, snapshot, state, known)
        return looked
    if snapshot.pending or snapshot.present != known:
        return looked
    if options.two_way and not unedited(client, snapshot, state):
        looked.scope = edited_in_anki_alone(snapshot, state, known)  # (their files alone)
        return looked
    if options.two_way and not _seen_as_recorded(snapshot, state):
        return looked
    if state_snapshot(state) != saved:
        save_state(read.root, state)  # whether Anki answers times, the times seen, now known
    folders = {posixpath.dirname(path) for path in read.files}
    remove_stale_temp_files({read.root / f for f in folders} | {read.root / STATE_DIR})
    looked.report = SyncReport(plan=Plan(unchanged=len(known)))
    looked.report.requests = client.requests_sent - start
    return looked


def media_as_stored(root: Path, state: SyncState) -> bool:
    """Whether every file the state's notes embed has the source, size and mtime it had when
    it was stored (else the sync hashes it, or reports it missing)."""
    inside = root.resolve()
    for record in state.notes.values():
        for source, anki_name in record.media:
            stored = state.media.get(anki_name)
            path = (root / source).resolve()
            try:
                info = path.stat()
            except OSError:
                return False
            if (
                stored is None
                or not path.is_relative_to(inside)
                or not stat.S_ISREG(info.st_mode)
                or (stored.source, stored.size, stored.mtime_ns)
                != (source, info.st_size, info.st_mtime_ns)
            ):
                return False
    return True


def _seen_as_recorded(snapshot: AnkiSnapshot, state: SyncState) -> bool:
    """Whether every time Anki answered is the one recorded (a sync would record any other)."""
    notes, at = state.notes, snapshot.asked_at
    mods = snapshot.mods or {}
    return all(notes[nid].anki_mod == mod_as_seen(mod, at) for nid, mod in mods.items())
