"""What notecards last pushed to Anki, per note: `VAULT/.notecards/sync-state.json`.

The state is a cache of knowledge, never the truth: deleting it loses nothing (the next sync
compares the vault with Anki itself). With it, a sync can tell an edit made in Anki from an
edit made in the vault, skip rendering (and asking Anki about) notes whose source did not
change, and skip media Anki already holds. It holds hashes, not the HTML pushed: telling
"Anki still has what notecards pushed" needs only the hash, and a small file loads fast on
every sync. It is written atomically, so a crash leaves the old state or the new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from notecards.atomic import write_json

STATE_DIR = ".notecards"
STATE_FILE = "sync-state.json"
# Bump when the meaning of a stored field changes; an older file is then ignored.
FORMAT = 2


def value_hash(text: str) -> str:
    """A pushed field's fingerprint: enough to tell whether Anki still holds that value."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


@dataclass
class PushedNote:
    """One note as notecards last left it in Anki."""

    source_hash: str  # of the vault block (see plan.source_hash): unchanged -> no render
    fields: dict[str, str]  # field name -> value_hash of the HTML pushed
    tags: list[str]  # the tags notecards manages on this note
    deck: str
    path: str  # where the block was (for messages and --prune)
    media: list[list[str]] = field(default_factory=list)  # [source, anki_name] pairs


@dataclass
class SyncState:
    url: str = ""  # the Anki it describes: another URL means another collection
    notes: dict[int, PushedNote] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)  # anki name -> sha256 of what was stored
    # Adds journaled before they are sent: block (path:line) -> pending tag (see recovery.py)
    pending: dict[str, str] = field(default_factory=dict)


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def load_state(root: Path, url: str) -> SyncState:
    """The saved state for this Anki, or an empty one (missing, unreadable, other URL)."""
    try:
        raw = json.loads(state_path(root).read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT or raw.get("url") != url:
            return SyncState(url=url)
        return SyncState(
            url=url,
            notes={int(k): PushedNote(*v) for k, v in raw["notes"].items()},
            media=dict(raw["media"]),
            pending=dict(raw["pending"]),
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
        # One row per note, PushedNote's fields in order: half the size of named keys.
        "notes": {str(k): _row(v) for k, v in sorted(state.notes.items())},
        "media": state.media,
        "pending": state.pending,
    }
    write_json(target, payload)
