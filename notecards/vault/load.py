"""A vault on disk: its settings, its markdown files, and every note in them.

`load_vault` reads everything at once and never raises for a bad card: each
problem is collected with its file and line, so `check` can list them all and
`build`/`sync` can refuse to write anything while errors remain.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from notecards.bulk import long_lived
from notecards.config import VaultConfig, load_config
from notecards.model import FileSnapshot, Note, ParsedVault
from notecards.problems import NotecardsError, Problem
from notecards.vault.files import markdown_files, read_markdown
from notecards.vault.parse_cache import ParseCache


@dataclass
class Vault:
    root: Path
    config: VaultConfig
    parsed: ParsedVault  # notes (in file order), deletions, problems, files
    # What listing the files found (the first of `parsed.problems`): a build's verdict
    # leaves them out without listing the vault again.
    listed: list[Problem] = field(default_factory=list)
    # What this load parsed, for the next one; kept only when a command calls save_cache.
    parse_cache: ParseCache | None = field(default=None, repr=False, compare=False)

    def save_cache(self) -> None:
        """Keep this load's parses in `.notecards/` for the next run.

        Explicit, and only from commands that write (build, sync): `check` and dry runs
        never call it, so they leave a fresh vault without a state folder.
        """
        if self.parse_cache is not None:
            self.parse_cache.save()


def load_vault(
    root: Path,
    progress: Callable[[Sequence[str]], Iterable[str]] = lambda paths: paths,
    read: VaultFiles | None = None,
    only: Collection[str] | None = None,
    on_notes: Callable[[list[Note]], object] = lambda notes: None,
) -> Vault:
    """Read settings and every markdown file; problems go in `parsed.problems`. `progress`
    wraps the loop over the files (a progress bar). `read`: the files as `read_vault_files`
    already read them (a command that first asked whether anything changed), not read again.
    `only`: the files whose notes, deletions and problems are wanted, parsed without the
    cache (the others are in `parsed.files` alone): a sync of the few files that changed
    (sync/scope.py) neither reads nor writes the cache of a whole vault's parses, which a
    later load of every file brings up to date (parsing those few again). `on_notes` hears
    each file's notes as soon as they are parsed, in order (a build renders them meanwhile).

    A file whose bytes and settings are unchanged since it was last parsed comes from
    the parse cache (`state_dir.PARSE_CACHE`) instead of being parsed again; the
    cache is written only by `Vault.save_cache`.

    Raises NotecardsError only for bad settings (nothing can be read right then).
    """
    from notecards.parse import parse_file  # (not for read_vault_files alone: a no-op sync)

    if read is None:
        read = _listed(root)
    config = read.config
    parsed = ParsedVault(problems=list(read.listed))
    with long_lived():  # (the cache of a large vault is a million objects: bulk.py)
        cache = ParseCache(read.root, config) if only is None else None
        for rel in progress(read.paths):
            one_read = read.reads.get(rel) or _read(read.root, rel)
            if isinstance(one_read, list):
                parsed.problems += one_read
                continue
            text, snapshot = one_read
            parsed.files[rel] = snapshot
            if only is not None and rel not in only:
                continue
            one = cache.get(rel, snapshot.digest) if cache is not None else None
            if one is None:
                one = parse_file(text, rel, config)
                if cache is not None:
                    cache.put(rel, snapshot.digest, one)
            parsed.notes += one.notes
            on_notes(one.notes)
            parsed.deletions += one.deletions
            parsed.problems += one.problems
    parsed.problems += id_range_problems(parsed) + duplicate_id_problems(parsed)
    listed = list(read.listed)
    return Vault(read.root, config, parsed, listed, parse_cache=cache)


@dataclass
class VaultFiles:
    """A vault's settings and its markdown files as read (text and snapshot, or why one
    cannot be read), nothing parsed: `load_vault` parses them without reading them again."""

    root: Path
    config: VaultConfig
    listed: list[Problem]  # what listing the files found (a folder that cannot be read)
    paths: list[str]  # every markdown file listed, in order
    # By path, as far as read: the text and snapshot, or the problems of reading it.
    reads: dict[str, tuple[str, FileSnapshot] | list[Problem]] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, FileSnapshot]:
        """The files read, by vault-relative path."""
        return {rel: one[1] for rel, one in self.reads.items() if not isinstance(one, list)}

    @property
    def problems(self) -> list[Problem]:
        """What could not be listed or read, in the order `load_vault` says it."""
        unread = [p for one in self.reads.values() if isinstance(one, list) for p in one]
        return self.listed + unread


def read_vault_files(
    root: Path,
    progress: Callable[[Sequence[str]], Iterable[str]] = lambda paths: paths,
) -> VaultFiles:
    """Settings and every markdown file, as `load_vault` reads them but parsing nothing:
    enough to tell whether the vault is as a build left it (`check`). Raises NotecardsError
    only for bad settings."""
    read = _listed(root)
    for rel in progress(read.paths):
        read.reads[rel] = _read(read.root, rel)
    return read


def _listed(root: Path) -> VaultFiles:
    """The settings and the list of markdown files, none read yet."""
    root = Path(root)
    if not root.is_dir():
        raise NotecardsError(f"{root}: not a folder")
    config = load_config(root)
    listing = markdown_files(root, config)
    return VaultFiles(root, config, list(listing.problems), list(listing.paths))


def _read(root: Path, rel: str) -> tuple[str, FileSnapshot] | list[Problem]:
    """A file's text and snapshot, or why it cannot be read."""
    try:
        return read_markdown(root, rel)
    except NotecardsError as err:
        return err.problems
    except OSError as err:
        return [Problem.at(rel, 1, f"cannot read: {err.strerror}")]


# Anki's note ids are positive 64-bit integers.
LARGEST_ID = 2**63 - 1


def id_range_problems(parsed: ParsedVault) -> list[Problem]:
    """An ID Anki cannot store (0, or 2^63 and more) would fail the build halfway; say so
    at its line, before anything is written."""
    message = "ID {} is not an Anki note id (a whole number from 1 to " + f"{LARGEST_ID})"
    problems = [
        Problem.at(note.path, note.id_line or note.start_line, message.format(note.note_id))
        for note in parsed.notes
        if note.note_id is not None and not 1 <= note.note_id <= LARGEST_ID
    ]
    problems += [
        Problem.at(d.path, d.line, message.format(d.note_id))
        for d in parsed.deletions
        if not 1 <= d.note_id <= LARGEST_ID
    ]
    return problems


def duplicate_id_problems(parsed: ParsedVault) -> list[Problem]:
    """An ID is one note's identity: two notes with it would overwrite each other."""
    first_seen: dict[int, tuple[str, int]] = {}
    problems = []
    for note in parsed.notes:
        if note.note_id is None:
            continue
        where = (note.path, note.id_line or note.start_line)
        if note.note_id not in first_seen:
            first_seen[note.note_id] = where
            continue
        other = first_seen[note.note_id]
        problems.append(
            Problem.at(*where, f"duplicate ID {note.note_id} (also at {other[0]}:{other[1]})")
        )
        problems.append(
            Problem.at(*other, f"duplicate ID {note.note_id} (also at {where[0]}:{where[1]})")
        )
    return problems
