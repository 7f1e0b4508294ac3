"""Which files are the vault's notes, and how one is read (its text, and how it looked).

Only `*.md` files are notes; `scan_dir`, the ignore globs, the app folders (Obsidian's, ours,
git's, the trash) and anything that resolves outside the vault leave a file out.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from notecards.config import VaultConfig
from notecards.hashing import content_digest
from notecards.model import FileSnapshot
from notecards.problems import NotecardsError, Problem

BOM = b"\xef\xbb\xbf"
# Folders that hold app state, never notes (Obsidian's, ours, git's, the trash).
_SKIPPED_DIRS = {".obsidian", ".notecards", ".git", ".trash"}


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
    """The vault's notes files: `*.md`, vault-relative POSIX paths, sorted."""
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


def detect_encoding(data: bytes) -> str:
    return "utf-8-sig" if data.startswith(BOM) else "utf-8"


def read_markdown(root: Path, rel: str) -> tuple[str, FileSnapshot]:
    """Read a vault file as text with its newlines as on disk, and how it looked.

    A file that is not UTF-8 raises NotecardsError naming the line of the first
    bad byte, so the caller can report it and go on with the other files.
    """
    data = (root / rel).read_bytes()
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        offset = err.start + (len(BOM) if encoding == "utf-8-sig" else 0)
        line = data.count(b"\n", 0, offset) + 1
        message = f"not UTF-8 text (byte {data[offset]:#x}); save the file as UTF-8"
        raise NotecardsError([Problem.at(rel, line, message)]) from err
    return text, FileSnapshot(path=rel, digest=content_digest(data), encoding=encoding)
