"""Step 2 of a sync: what Anki holds, learned in one request.

Presence comes from `findNotes nid:...` (ids only), so a sync with nothing changed fetches no
note contents at all; `notesInfo` is asked only for the notes the vault changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from notecards.sync.notes import Rendered, SyncNote
from notecards.sync.recovery import PENDING_TAG
from notecards.sync.state import SyncState
from notecards.targets.ankiconnect import AnkiConnect, AnkiNote, is_loopback, parse_notes_info
from notecards.vault import Vault


@dataclass
class AnkiSnapshot:
    notes: dict[int, AnkiNote]  # what Anki holds for the rendered notes
    present: set[int]  # which of the ids the vault and the state name Anki has
    decks: dict[str, int]  # name -> id
    pending: list[int]  # notes an interrupted sync added (they carry a pending tag)
    shares_files: bool  # Anki can open a package file of ours


def read_anki(
    client: AnkiConnect, vault: Vault, state: SyncState, items: Sequence[SyncNote]
) -> AnkiSnapshot:
    """One request: version, decks, which known notes Anki still has, what it holds for the
    rendered ones (only those can differ from the last push), pending adds, its media folder."""
    known = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    known |= {d.note_id for d in vault.parsed.deletions} | set(state.notes)
    rendered = sorted(
        {i.note.note_id for i in items if isinstance(i, Rendered) and i.note.note_id is not None}
    )
    actions = [
        ("version", {}),
        ("deckNamesAndIds", {}),
        ("findNotes", {"query": f"tag:{PENDING_TAG}*"}),
        ("findNotes", {"query": "nid:" + ",".join(map(str, sorted(known)))}),
        ("notesInfo", {"notes": rendered}),
    ]
    if not known:
        actions = actions[:3]  # an empty `nid:` is a search error; nothing to look up
    # An add-on without getMediaDirPath answers an error for it: then Anki cannot share files.
    actions.append(("getMediaDirPath", {}))
    *answers, (media_dir, _) = client.multi_or_raise(actions, may_fail=("getMediaDirPath",))
    client.check_version(answers[0][0])
    present = set(answers[3][0]) if known else set()
    notes = parse_notes_info(answers[4][0]) if known else {}
    # Anki can open our files when it runs here and sees this file system (not in WSL, or in
    # a container).
    shares_files = (
        is_loopback(client.url) and isinstance(media_dir, str) and Path(media_dir).is_dir()
    )
    return AnkiSnapshot(notes, present, answers[1][0], answers[2][0], shares_files)
