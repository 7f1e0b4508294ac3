"""Which files are the vault's notes, and how one is read (its text, and how it looked).

Only regular `*.md` files are notes; `scan_dir`, the ignore globs, the app folders (Obsidian's,
ours, git's, the trash) and anything that resolves outside the vault leave a file out.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from notecards.config import VaultConfig
from notecards.hashing import content_digest
from notecards.model import FileSnapshot
from notecards.problems import NotecardsError, Problem, Severity

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


@dataclass
class Listing:
    """The vault's notes files, and what could not be listed (each at its path)."""

    paths: list[str] = field(default_factory=list)  # vault-relative POSIX paths, sorted
    problems: list[Problem] = field(default_factory=list)


def markdown_files(root: Path, config: VaultConfig) -> Listing:
    """The vault's notes files: regular `*.md` files, each once, under its own path.

    A file reached through a symlink as well is one file, listed under its real path (where
    its IDs are written); a link that loops, leads outside the vault, or names something that
    is not a regular file (a FIFO would block every read) is left out and said. A folder that
    cannot be read, or a file name that is not UTF-8, is an error: the cards in it would look
    deleted.
    """
    listing = Listing()
    real_root = root.resolve()
    base = root / config.scan_dir if config.scan_dir else root
    found: dict[Path, list[str]] = {}  # real file -> the vault paths that reach it

    def unreadable(err: OSError) -> None:
        where = _shown(Path(err.filename or base), root)
        listing.problems.append(Problem.at(where, None, f"cannot read folder: {err.strerror}"))

    for folder, dirs, files in os.walk(base, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in files:
            if not name.endswith(".md"):
                continue
            full = Path(folder) / name
            rel = _shown(full, root)
            if not is_utf8_name(rel):
                message = "file name is not valid UTF-8; rename it to read its cards"
                listing.problems.append(Problem.at(rel, None, message))
                continue
            real, why = _regular_file(full, real_root)
            if real is None:
                listing.problems.append(Problem.at(rel, None, why, Severity.WARNING))
                continue
            if not is_ignored(rel, config):
                found.setdefault(real, []).append(rel)
    for real, paths in found.items():
        own = real.relative_to(real_root).as_posix()
        listing.paths.append(own if own in paths else min(paths))
    listing.paths.sort()
    return listing


def _regular_file(path: Path, real_root: Path) -> tuple[Path | None, str]:
    """The real file a vault path names, or None and why it is left out."""
    try:
        real = path.resolve(strict=True)
        mode = real.stat().st_mode
    except RuntimeError:  # Python 3.11 reports a symlink loop so
        return None, "symlink loop; skipped"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, "symlink loop; skipped"
        return None, f"cannot read: {err.strerror}; skipped"
    if not real.is_relative_to(real_root):
        return None, "symlink that leads outside the vault; skipped"
    if not stat.S_ISREG(mode):
        return None, "not a regular file; skipped"
    return real, ""


def _shown(path: Path, root: Path) -> str:
    """A path as messages show it: vault-relative, bytes that are not UTF-8 escaped."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return rel


def is_utf8_name(name: str) -> bool:
    """Whether a name os.walk or os.scandir gave is UTF-8 (undecodable bytes come as
    surrogates, which no card can name and no JSON file can hold)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.walk hands over undecodable bytes as surrogates
        return False
    return True


def _read_regular(path: Path) -> bytes:
    """The file's bytes, if it is still a regular file when opened: a FIFO put in its place
    since the listing would block the read for ever (O_NONBLOCK opens one without waiting)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(fd)


def detect_encoding(data: bytes) -> str:
    return "utf-8-sig" if data.startswith(BOM) else "utf-8"


def read_markdown(root: Path, rel: str) -> tuple[str, FileSnapshot]:
    """Read a vault file as text with its newlines as on disk, and how it looked.

    A file that is not UTF-8 raises NotecardsError naming the line of the first
    bad byte, so the caller can report it and go on with the other files.
    """
    data = _read_regular(root / rel)
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        offset = err.start + (len(BOM) if encoding == "utf-8-sig" else 0)
        line = data.count(b"\n", 0, offset) + 1
        message = f"not UTF-8 text (byte {data[offset]:#x}); save the file as UTF-8"
        raise NotecardsError([Problem.at(rel, line, message)]) from err
    return text, FileSnapshot(path=rel, digest=content_digest(data), encoding=encoding)


def is_read_only(path: Path) -> bool:
    """Whether the user made this file read-only (no write bit), or it cannot be written by
    this process; a rename would replace it all the same, so a write must ask first. The
    mode bits decide even for root, who may write anything: the user's choice stands."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # gone or unreadable: the write reports that itself
    return not mode & 0o222 or not os.access(path, os.W_OK)
