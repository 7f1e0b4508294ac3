"""What notecards last pushed to Anki, per note: `VAULT/.notecards/sync-state.json`.

The state is a cache of knowledge, never the truth: deleting it loses nothing (the next sync
compares the vault with Anki itself). With it, a sync can tell an edit made in Anki from an
edit made in the vault, skip rendering (and asking Anki about) notes whose source did not
change, and skip media Anki already holds. It holds digests, not the HTML pushed: telling
"Anki still has what notecards pushed" needs only the hash, and a small file loads fast on
every sync. It is written atomically, so a crash leaves the old state or the new.

Each note's record is on a line of its own (the file is JSON all the same): a save writes the
records loaded and not replaced since as their lines were read, and encodes only the others
(encoding 10,000 records again cost a one-card edit more than the rest of saving them).
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass, field, fields
from operator import attrgetter
from pathlib import Path

from notecards.bulk import long_lived
from notecards.problems import FileError, NotecardsError, Problem
from notecards.vault.atomic import write_text
from notecards.vault.entry_lines import entries_document, entry_line, entry_lines
from notecards.vault.state_dir import SYNC_STATE

# Bump when the shape or meaning of a stored field changes; see load_state for older files.
FORMAT = 4
_READABLE_FORMATS = (2, 3, FORMAT)

# The tag an add carries until its ID is in the vault (recovery.py): the journal's.
PENDING_TAG = "notecards::pending::"


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
    # The note's modification time in Anki (seconds) when notecards last saw it: a later one
    # means it may have been edited there (two-way sync reads only those notes). 0: unknown.
    anki_mod: int = 0
    # field name -> digest of what Anki held before notecards last updated the field: Anki's
    # editor, open on the note, can put that back (AnkiConnect #82), which is no one's edit.
    replaced: dict[str, str] = field(default_factory=dict)


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
    # When a two-way sync last ended, kept to the day (seconds since the epoch; 0: never):
    # Anki is asked for the notes edited since that day (`edited:N`), and where it answers
    # modification times, for those notes' times alone (read_anki.py).
    synced_at: int = 0
    # Whether this Anki answers notesModTime (the releases since 2024 do); None: not known yet.
    mod_times: bool | None = None
    # The vault's inputs (render/inputs.files_digest) as a sync left them with nothing left
    # to do (no problem, conflict or pending add, every note of the vault and no other in
    # its records); "" otherwise. The same again: no file is parsed (as_left.py).
    as_left: str = ""
    # The records whose note rendered with a problem (a warning) when it last did; None: not
    # known (a state from before it was kept). With it, a sync knows every problem of the
    # vault, rendering only those notes again, and leaves `check` its verdict as a build
    # does (render/inputs.py).
    warned: frozenset[int] | None = frozenset()
    # With `as_left`, each markdown file's digest as that sync left it: a sync after an
    # edit then reads only the files whose bytes changed since (scope.py); {} otherwise.
    files: dict[str, str] = field(default_factory=dict)
    # Each record as loaded, with its line in the file: saved again as read while it is the
    # record (a sync replaces a record that changes, never changes one in place).
    lines: dict[int, tuple[PushedNote, str]] = field(
        default_factory=dict, repr=False, compare=False
    )


def mod_as_seen(mod: int, now: float) -> int:
    """The time a record keeps of a note Anki answers `mod` for, at `now`: Anki counts whole
    seconds, so a note modified in the second it was read could be edited again within it,
    under the same time; kept a second earlier, it is looked at once more."""
    return mod if mod < now - 1 else mod - 1


def state_path(root: Path) -> Path:
    return root / SYNC_STATE


@long_lived()  # (10,000 records are a quarter of a million objects: bulk.py)
def load_state(root: Path, url: str) -> SyncState:
    """The saved state for this Anki, or an empty one (none yet, another URL, a format this
    release does not read). Raises NotecardsError for a damaged file: it holds the journal of
    adds an interrupted sync needs, so it is reported, never silently replaced.

    Older formats still load, merge records intact: a format-3 note has no `anki_mod` (its
    note is read from Anki once), a format-2 one no `deps` either (it renders once more), its
    media no size or mtime (hashed once more), and its journal's values give the pending tag."""
    path = state_path(root)
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
    except FileNotFoundError:
        return SyncState(url=url)
    except (OSError, ValueError, RecursionError) as err:
        raise _damaged(err) from err
    try:
        if not isinstance(raw, dict):
            raise TypeError("not a JSON object")
        if raw.get("format") not in _READABLE_FORMATS or raw.get("url") != url:
            return SyncState(url=url)
        if raw["format"] >= 3:
            missing = [0, {}] if raw["format"] == 3 else []  # format 3: no anki_mod, replaced
            notes = {
                int(k): _note([*v, *missing] if missing else v) for k, v in raw["notes"].items()
            }
            media = {_text(name): _media(v) for name, v in raw["media"].items()}
            synced_at, mod_times = raw.get("synced_at", 0), raw.get("mod_times")
            as_left, warned = raw.get("as_left", ""), raw.get("warned")
            files = raw.get("files", {})
            state = SyncState(
                url,
                notes,
                media,
                _text(raw["pending_tag"]),
                _text(raw["vault_files"]),
                synced_at if _is_int(synced_at) else 0,
                mod_times if isinstance(mod_times, bool) else None,
                as_left if isinstance(as_left, str) else "",
                frozenset(warned) if _is_ids(warned) else frozenset() if not notes else None,
                files if _is_digests(files) else {},
            )
            if raw["format"] == FORMAT:
                found = entry_lines(text, "notes", raw["notes"])
                state.lines = {int(k): (notes[int(k)], line) for k, line in found.items()}
            return state
        notes = {int(k): _note([*v, None, 0, {}]) for k, v in raw["notes"].items()}
        return SyncState(
            url,
            notes,
            {_text(name): _media([sha, "", -1, -1]) for name, sha in raw["media"].items()},
            _text(next(iter(raw["pending"].values()), "")),
            warned=None if notes else frozenset(),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _damaged(err) from err


def _damaged(err: Exception) -> NotecardsError:
    message = (
        f"the sync state is damaged ({err}); it only remembers what was pushed: move it away"
        " (or delete it) to sync again, which then makes Anki match the vault"
    )
    return NotecardsError([Problem.at(SYNC_STATE.as_posix(), 1, message)])


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} where a string belongs")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_digests(value: object) -> bool:
    return type(value) is dict and all(type(d) is str for d in value.values())


def _is_ids(value: object) -> bool:
    return type(value) is list and all(type(n) is int for n in value)


def _note(row: object) -> PushedNote:
    """One stored note, every value of the type it must have (a wrong one would fail later,
    halfway through a sync). Checked with `type(...) is` in one expression, and the strings of
    a list or dict by joining them (which refuses anything else), no call per value: a state
    of 10,000 notes loads on every sync."""
    if type(row) is not list or len(row) != len(_COLUMNS):
        raise TypeError(f"a note record of the wrong shape: {row!r:.80}")
    digest, fields_, tags, deck, path, media, deps, anki_mod, replaced = row
    if not (
        type(digest) is str
        and type(fields_) is dict  # (JSON's keys are strings)
        and type(tags) is list
        and type(deck) is str
        and type(path) is str
        and type(media) is list
        and (
            not media
            or all(
                type(p) is list and len(p) == 2 and type(p[0]) is str and type(p[1]) is str
                for p in media
            )
        )
        and (deps is None or type(deps) is str)
        and type(anki_mod) is int  # (not a bool)
        and type(replaced) is dict
    ):
        raise TypeError(f"a note record of the wrong shape: {row!r:.80}")
    try:
        "".join(fields_.values()), "".join(tags), "".join(replaced.values())
    except TypeError:
        raise TypeError(f"a note record of the wrong shape: {row!r:.80}") from None
    return PushedNote(digest, fields_, tags, deck, path, media, deps, anki_mod, replaced)


def _media(row: object) -> PushedMedia:
    if not isinstance(row, list) or len(row) != 4:
        raise TypeError(f"a media record of the wrong shape: {row!r:.80}")
    digest, source, size, mtime_ns = row
    if not (_is_int(size) and _is_int(mtime_ns)):
        raise TypeError(f"a media record of the wrong shape: {row!r:.80}")
    return PushedMedia(_text(digest), _text(source), size, mtime_ns)


_COLUMNS = tuple(f.name for f in fields(PushedNote))


_row = attrgetter(*_COLUMNS)  # a record's values in order, as a tuple (a list in JSON)


def state_snapshot(state: SyncState) -> tuple:
    """What save_state would write, as one comparable value: a sync saves the state only when
    this changed. The records themselves, not copies: a sync replaces a record (with
    dataclasses.replace or a new one), never changes one in place, so comparing the snapshot
    with the state later compares each unchanged record with itself, at no cost (copying the
    10,000 records' lists and dicts took longer than the no-op sync's requests)."""
    return (dict(state.notes), dict(state.media), state.pending_tag, state.vault_files,
            state.synced_at, state.mod_times, state.as_left, state.warned,
            dict(state.files))  # fmt: skip


def save_state(root: Path, state: SyncState) -> None:
    """Atomic: temp file, fsync, rename; raises FileError when it cannot be written (the old
    state is then intact)."""
    target = state_path(root)
    payload = {
        "format": FORMAT,
        "url": state.url,
        # One row per media file, and below per note (PushedNote's fields in order): half the
        # size of named keys.
        "media": {name: astuple(m) for name, m in sorted(state.media.items())},
        "pending_tag": state.pending_tag,
        "vault_files": state.vault_files,
        "synced_at": state.synced_at,
        "mod_times": state.mod_times,
        "as_left": state.as_left,
        "warned": None if state.warned is None else sorted(state.warned),
        "files": state.files,
    }
    lines = {}
    for nid, record in sorted(state.notes.items()):
        held = state.lines.get(nid)
        if held is not None and held[0] is record:
            lines[nid] = held
        else:
            lines[nid] = (record, entry_line(str(nid), _row(record)))
    text = entries_document(payload, "notes", (line for _, line in lines.values()))
    try:
        write_text(target, text)
    except OSError as err:
        raise FileError("write", target, err) from err
    state.lines = lines
