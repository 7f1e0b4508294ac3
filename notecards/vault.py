"""A vault on disk: its settings, its markdown files, and every note in them.

`load_vault` reads everything at once and never raises for a bad card: each
problem is collected with its file and line, so `check` can list them all and
`build`/`sync` can refuse to write anything while errors remain.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from notecards.config import VaultConfig, load_config
from notecards.model import NotecardsError, ParsedVault, Problem
from notecards.parse import parse_file, read_markdown
from notecards.parse.cache import ParseCache

# Folders that hold app state, never notes (Obsidian's, ours, git's, the trash).
_SKIPPED_DIRS = {".obsidian", ".notecards", ".git", ".trash"}


@dataclass
class Vault:
    root: Path
    config: VaultConfig
    parsed: ParsedVault  # notes (in file order), deletions, problems, files
    # What this load parsed, for the next one; kept only when a command calls save_cache.
    parse_cache: ParseCache | None = field(default=None, repr=False, compare=False)

    def save_cache(self) -> None:
        """Keep this load's parses in `.notecards/` for the next run.

        Explicit, and only from commands that write (build, sync): `check` and dry runs
        never call it, so they leave a fresh vault without a state folder.
        """
        if self.parse_cache is not None:
            self.parse_cache.save()


@lru_cache(maxsize=256)
def glob_regex(glob: str) -> re.Pattern[str]:
    """A vault-relative glob as O2A (minimatch) reads it: `*` stays inside a folder,
    `**` spans folders, `**/` may match no folder at all."""
    parts, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            parts.append(".*")
            i += 2
        elif glob[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(parts))


def is_ignored(rel: str, config: VaultConfig) -> bool:
    return any(glob_regex(glob.strip("/")).fullmatch(rel) for glob in config.ignore)


def markdown_files(root: Path, config: VaultConfig) -> list[str]:
    """The vault's notes files: `*.md`, vault-relative POSIX paths, sorted.

    Only `scan_dir` is read when set; ignored globs, hidden app folders and
    anything that resolves outside the vault (a symlink) are left out.
    """
    base = root / config.scan_dir if config.scan_dir else root
    real_root = root.resolve()
    found = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        for name in files:
            if not name.endswith(".md"):
                continue
            full = Path(folder) / name
            if not full.resolve().is_relative_to(real_root):
                continue
            rel = full.relative_to(root).as_posix()
            if not is_ignored(rel, config):
                found.append(rel)
    return sorted(found)


def load_vault(root: Path) -> Vault:
    """Read settings and every markdown file; problems go in `parsed.problems`.

    A file whose bytes and settings are unchanged since it was last parsed comes from
    the parse cache (`.notecards/parse-cache.json`) instead of being parsed again; the
    cache is written only by `Vault.save_cache`.

    Raises NotecardsError only for bad settings (nothing can be read right then).
    """
    root = Path(root)
    if not root.is_dir():
        raise NotecardsError(f"{root}: not a folder")
    config = load_config(root)
    parsed = ParsedVault()
    cache = ParseCache(root, config)
    for rel in markdown_files(root, config):
        try:
            text, snapshot = read_markdown(root, rel)
        except NotecardsError as err:
            parsed.problems += err.problems
            continue
        except OSError as err:
            parsed.problems.append(Problem(rel, 1, f"cannot read: {err.strerror}"))
            continue
        one = cache.get(rel, snapshot.sha256)
        if one is None:
            one = parse_file(text, rel, config)
            cache.put(rel, snapshot.sha256, one)
        parsed.files[rel] = snapshot
        parsed.notes += one.notes
        parsed.deletions += one.deletions
        parsed.problems += one.problems
    parsed.problems += duplicate_id_problems(parsed)
    return Vault(root=root, config=config, parsed=parsed, parse_cache=cache)


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
            Problem(
                where[0], where[1], f"duplicate ID {note.note_id} (also at {other[0]}:{other[1]})"
            )
        )
        problems.append(
            Problem(
                other[0], other[1], f"duplicate ID {note.note_id} (also at {where[0]}:{where[1]})"
            )
        )
    return problems
