"""Which files are the vault's notes, and how one is read (its text, and how it looked).

Only regular `*.md` files are notes; `scan_dir`, the ignore globs, the app folders (Obsidian's,
ours, git's, the trash) and anything that resolves outside the vault leave a file out.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    real_root = str(root.resolve())
    base = root / config.scan_dir if config.scan_dir else root
    real_base = os.path.realpath(base)
    # A plain file (no symlink) under a folder the walk entered is where the walk found it:
    # only links need resolving, which keeps a vault of many files cheap to list.
    plain_inside = real_base == real_root or real_base.startswith(real_root + os.sep)
    found: dict[str, list[str]] = {}  # real file -> the vault paths that reach it

    def unreadable(err: OSError) -> None:
        where = _shown(Path(err.filename or base), root)
        listing.problems.append(Problem.at(where, None, f"cannot read folder: {err.strerror}"))

    shown_base = _shown(base, root) if config.scan_dir else ""
    for inner, entries in _walk(str(base), unreadable):
        for entry in entries:
            if not entry.name.endswith(".md"):
                continue
            rel = "/".join(part for part in (shown_base, inner, entry.name) if part)
            if not is_utf8_name(rel):
                message = "file name is not valid UTF-8; rename it to read its cards"
                listing.problems.append(Problem.at(rel, None, message))
                continue
            if plain_inside and _is_plain_file(entry):
                real: str | None = os.path.join(real_base, inner, entry.name)
            else:
                real, why = _regular_file(Path(entry.path), Path(real_root))
            if real is None:
                listing.problems.append(Problem.at(rel, None, why, Severity.WARNING))
                continue
            if not is_ignored(rel, config):
                found.setdefault(real, []).append(rel)
    inside = len(real_root.rstrip(os.sep)) + 1  # what a real path inside the vault starts with
    for real, paths in found.items():
        own = real[inside:]
        listing.paths.append(own if own in paths else min(paths))
    listing.paths.sort()
    return listing


def _walk(base: str, onerror) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """As `os.walk` (top down, folders in name order, links to folders not entered, the app
    folders skipped): each folder's path from `base` ("" for itself) and its entries that
    are not folders."""
    stack = [""]
    while stack:
        inner = stack.pop()
        try:
            with os.scandir(os.path.join(base, inner) if inner else base) as scan:
                entries = list(scan)
        except OSError as err:
            onerror(err)
            continue
        files, folders = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                files.append(entry)
            elif entry.name not in _SKIPPED_DIRS and not entry.is_symlink():
                folders.append(os.path.join(inner, entry.name) if inner else entry.name)
        yield inner, files
        stack.extend(sorted(folders, reverse=True))


def _is_plain_file(entry: os.DirEntry[str]) -> bool:
    try:
        return not entry.is_symlink() and entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _regular_file(path: Path, real_root: Path) -> tuple[str | None, str]:
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
    return str(real), ""


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


def read_regular(path: str | Path) -> bytes:
    """The file's bytes, if it is still a regular file when opened: a FIFO put in its place
    since the listing would block the read for ever (O_NONBLOCK opens one without waiting).
    (No isatty or seek calls, as `Path.read_bytes` makes: a write-back reads every file twice.)"""
    return read_regular_and_mode(path)[0]


def read_regular_and_mode(path: str | Path) -> tuple[bytes, int]:
    """`read_regular`'s bytes and the file's st_mode, from the one open (a write-back that
    asks `is_read_only` with it stats no file by name)."""
    with _held(path) as held:
        return held


@contextmanager
def holding_regular(
    path: str | Path, closing: Callable[[int], object] = os.close
) -> Iterator[bytes]:
    """`read_regular`'s bytes, the file kept open until the block ends. A rename over it
    inside the block leaves freeing the old file's blocks to that close: the rename then
    holds its folder's lock (which every create and rename in that folder waits for) for
    the rename alone, not for the freeing too. `closing` closes the descriptor (write-back
    hands it to threads that do)."""
    with _held(path, closing) as (data, _):
        yield data


@contextmanager
def _held(
    path: str | Path, closing: Callable[[int], object] = os.close
) -> Iterator[tuple[bytes, int]]:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EINVAL, "not a regular file", path)
        # One read for a file as long as its stat says (asking one byte more); anything
        # else (a short read, a file that grew or shrank meanwhile) reads on to the end.
        data = os.read(fd, info.st_size + 1)
        if len(data) != info.st_size:
            chunks = [data]
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
        yield data, info.st_mode
    finally:
        closing(fd)


def detect_encoding(data: bytes) -> str:
    return "utf-8-sig" if data.startswith(BOM) else "utf-8"


def read_markdown(root: Path, rel: str) -> tuple[str, FileSnapshot]:
    """Read a vault file as text with its newlines as on disk, and how it looked.

    A file that is not UTF-8 raises NotecardsError naming the line of the first
    bad byte, so the caller can report it and go on with the other files.
    """
    data = read_regular(os.path.join(root, rel))
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        offset = err.start + (len(BOM) if encoding == "utf-8-sig" else 0)
        line = data.count(b"\n", 0, offset) + 1
        message = f"not UTF-8 text (byte {data[offset]:#x}); save the file as UTF-8"
        raise NotecardsError([Problem.at(rel, line, message)]) from err
    return text, FileSnapshot(path=rel, digest=content_digest(data), encoding=encoding)


def is_read_only(path: Path, mode: int | None = None) -> bool:
    """Whether the user made this file read-only (no write bit), or it cannot be written by
    this process; a rename would replace it all the same, so a write must ask first. The
    mode bits decide even for root, who may write anything: the user's choice stands.
    `mode`: the file's st_mode, when the caller read it already."""
    if mode is None:
        try:
            mode = path.stat().st_mode
        except OSError:
            return False  # gone or unreadable: the write reports that itself
    return not mode & 0o222 or not os.access(path, os.W_OK)
