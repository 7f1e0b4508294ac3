"""What notecards last pushed to Anki, per note: `VAULT/.notecards/sync-state.json`.

The state is a cache of knowledge, never the truth: deleting it loses nothing (the next sync
compares the vault with Anki itself). With it, a sync can tell an edit made in Anki from an
edit made in the vault, skip rendering (and asking Anki about) notes whose source did not
change, and skip media Anki already holds. It holds digests, not the HTML pushed: telling
"Anki still has what notecards pushed" needs only the hash, and a small file loads fast on
every sync. It is written atomically, so a crash leaves the old state or the new.
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path

from notecards.vault.atomic import write_json
from notecards.vault.state_dir import SYNC_STATE

# Bump when the shape or meaning of a stored field changes; see load_state for older files.
FORMAT = 3
_READABLE_FORMATS = (2, FORMAT)


@dataclass
class PushedNote:
    """One note as notecards last left it in Anki."""

    source_digest: str  # of the vault block (read_vault.source_digest): unchanged -> no render
    fields: dict[str, str]  # field name -> hashing.field_digest of the HTML pushed
    tags: list[str]  # the tags notecards manages on this note
    deck: str
    path: str  # where the block was (for messages and --prune)
    media: list[list[str]] = field(default_factory=list)  # [source, anki_name] pairs
    # What its links and embeds resolved to when it was rendered: JSON of [kind, reference,
    # result] lists (model.Dependency), "" for none. The source unchanged and these the same
    # -> the same HTML. Kept as text: a state load parses it only for a note whose links must
    # be looked at. None: not known (a state from before they were kept): render it again.
    deps: str | None = ""


@dataclass(frozen=True)
class PushedMedia:
    """A vault file as stored in Anki: its content digest, and the size and mtime its source
    had when it was hashed (both unchanged: the same file, not read again)."""

    digest: str
    source: str
    size: int
    mtime_ns: int


@dataclass
class SyncState:
    url: str = ""  # the Anki it describes: another URL means another collection
    notes: dict[int, PushedNote] = field(default_factory=dict)
    media: dict[str, PushedMedia] = field(default_factory=dict)  # by Anki name
    # Set while adds may be in Anki without their ID in the vault: the pending tag they carry
    # (see recovery.py); "" when none.
    pending_tag: str = ""
    # Digest of the vault's file list under which every record's deps hold (read_vault.py).
    vault_files: str = ""


def state_path(root: Path) -> Path:
    return root / SYNC_STATE


def load_state(root: Path, url: str) -> SyncState:
    """The saved state for this Anki, or an empty one (missing, unreadable, other URL).

    A format-2 file still loads: its notes have no `deps` (so each renders once more and is
    compared with Anki's copy, merge records intact), its media no size or mtime (hashed once
    more), and its journal's values give the pending tag."""
    try:
        raw = json.loads(state_path(root).read_text(encoding="utf-8"))
        if raw.get("format") not in _READABLE_FORMATS or raw.get("url") != url:
            return SyncState(url=url)
        if raw["format"] == FORMAT:
            notes = {int(k): PushedNote(*v) for k, v in raw["notes"].items()}
            media = {name: PushedMedia(*v) for name, v in raw["media"].items()}
            return SyncState(url, notes, media, raw["pending_tag"], raw["vault_files"])
        return SyncState(
            url,
            {int(k): PushedNote(*v, None) for k, v in raw["notes"].items()},
            {name: PushedMedia(sha, "", -1, -1) for name, sha in raw["media"].items()},
            next(iter(raw["pending"].values()), ""),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return SyncState(url=url)


_COLUMNS = tuple(f.name for f in fields(PushedNote))


def _row(note: PushedNote) -> list:
    return [getattr(note, name) for name in _COLUMNS]


def save_state(root: Path, state: SyncState) -> None:
    """Atomic: temp file, fsync, rename."""
    target = state_path(root)
    payload = {
        "format": FORMAT,
        "url": state.url,
        # One row per note (PushedNote's fields in order) or media file: half the size of
        # named keys.
        "notes": {str(k): _row(v) for k, v in sorted(state.notes.items())},
        "media": {name: astuple(m) for name, m in sorted(state.media.items())},
        "pending_tag": state.pending_tag,
        "vault_files": state.vault_files,
    }
    write_json(target, payload)
