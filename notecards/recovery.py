"""Crash safety for `notecards sync`: the journal of adds and the recovery of an interrupted run.

AnkiConnect cannot add a note under a chosen ID, so a sync killed between adding a note and
writing its ID into the file would add it again next time. Each add is therefore journaled in
the state and tagged `notecards::pending::<token>`, the token derived from the block itself.
A re-run first looks for pending tags: a note whose ID is already in the vault just loses its
tag, one whose token matches a block gets its ID written, one journaled by an earlier run whose
block is gone or changed is deleted (nobody else knows its ID).

Test-only fault hook: `NOTECARDS_FAULT_AT=<step>` SIGKILLs the process at that step (one of
FAULT_STEPS), so the crash test can stop a real sync at each step in turn.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from notecards.model import NotecardsError
from notecards.output import Reporter
from notecards.plan import Target
from notecards.state import SyncState, save_state
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault import Vault
from notecards.writeback import write_back

PENDING_TAG = "notecards::pending::"
FAULT_ENV = "NOTECARDS_FAULT_AT"
TAG_CHUNK = 250
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


def fault_point(step: str) -> None:
    """Test-only: die here, as a power cut would, when NOTECARDS_FAULT_AT names this step."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def add_tokens(targets: Sequence[Target]) -> dict[str, Target]:
    """token -> note: derived from the block (path, source, old ID, occurrence), never random,
    so that a re-run recognises the notes an interrupted run added, with or without the state."""
    seen: dict[str, int] = defaultdict(int)
    tokens = {}
    for target in targets:
        note = target.note
        key = f"{note.path}\0{target.source_hash}\0{note.note_id or ''}"
        seen[key] += 1
        tokens[hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:24]] = target
    return tokens


def recover(
    client: AnkiConnect,
    vault: Vault,
    state: SyncState,
    targets: Sequence[Target],
    pending: Sequence[int],
    reporter: Reporter,
) -> list[str]:
    """Finish what an interrupted sync left: IDs into files, pending tags off, orphans out."""
    reporter.info(f"recovering {len(pending)} note(s) added by an interrupted sync")
    infos = client.notes_info(pending)
    vault_ids = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    tokens = add_tokens(targets)
    to_write: dict[tuple[str, int], int] = {}
    claimed: dict[str, int] = {}
    done, orphans, lines = [], [], []
    for note_id in sorted(infos):
        token = _pending_token(infos[note_id].tags)
        target = tokens.get(token or "")
        if note_id in vault_ids:
            done.append(note_id)
        elif target is not None and token not in claimed:
            claimed[token] = note_id  # type: ignore[index]
            to_write[(target.note.path, target.note.start_line)] = note_id
            lines.append(f"{target.note.where}: note {note_id} (ID written)")
        elif token in state.pending or token in claimed:
            orphans.append(note_id)
        else:
            reporter.info(f"note {note_id} carries {PENDING_TAG}{token} from another vault; left")
    result = write_back(
        vault.root, vault.parsed.files, to_write, config=vault.config, notes=vault.parsed.notes
    )
    if result.problems:
        raise NotecardsError(result.problems)
    done += list(to_write.values())
    client.multi([_remove_tag_action(i, infos[i].tags) for i in done])
    if orphans:
        client.invoke("deleteNotes", notes=orphans)
    state.pending = {}
    save_state(vault.root, state)
    return lines + [
        f"note {n}: added twice by an interrupted sync; extra copy deleted" for n in orphans
    ]


def pending_tag_removals(cleared: Sequence[tuple[int, str]]) -> list[tuple[str, dict[str, Any]]]:
    """`removeTags` actions taking the pending tag off each (note id, token)."""
    # Anki matches every listed tag against every listed note: a few hundred per action.
    chunks = [cleared[i : i + TAG_CHUNK] for i in range(0, len(cleared), TAG_CHUNK)]
    return [
        (
            "removeTags",
            {"notes": [n for n, _ in c], "tags": " ".join(PENDING_TAG + t for _, t in c)},
        )
        for c in chunks
    ]


def _pending_token(tags: Sequence[str]) -> str | None:
    for tag in tags:
        if tag.casefold().startswith(PENDING_TAG):
            return tag[len(PENDING_TAG) :].lower()
    return None


def _remove_tag_action(note_id: int, tags: Sequence[str]) -> tuple[str, dict[str, Any]]:
    marker = next(t for t in tags if t.casefold().startswith(PENDING_TAG))
    return ("removeTags", {"notes": [note_id], "tags": marker})
