"""What files the vault holds, and which one a link or embed names.

One scan per build (cheap: directory entries only, no file is opened) answers
every lookup with dict access, so a cached render can be re-checked against the
vault as it is now at almost no cost. Only files inside the vault are ever
named: `..`, absolute paths and symlinks that lead outside are refused.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from notecards.hashing import path_tag
from notecards.vault.files import is_utf8_name

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".bmp", ".tif", ".tiff"}
)
AUDIO_EXTENSIONS = frozenset({".mp3", ".wav", ".ogg", ".m4a", ".flac", ".opus", ".webm"})
_ABSOLUTE = re.compile(r"^(?:[/\\]|~[/\\]|[A-Za-z]:[/\\])")


class BadReference(Exception):
    """A link or embed that names no usable vault file (the message says why)."""


def media_kind(name: str) -> str | None:
    """ "image", "sound", or None for a file Anki cannot show inline."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in AUDIO_EXTENSIONS:
        return "sound"
    return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass
class VaultIndex:
    """The vault's files (vault-relative POSIX paths), hidden folders left out as
    Obsidian does, and the symlinks whose target lies outside the vault."""

    files: set[str] = field(default_factory=set)
    outside: set[str] = field(default_factory=set)
    _by_lower_path: dict[str, str] = field(default_factory=dict)
    _by_lower_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def scan(cls, root: Path) -> VaultIndex:
        """Directory entries only. What cannot be named from a card is left out: a folder
        that cannot be read, a symlink that loops, a name that is not UTF-8 (a reference to
        it is then "not found", at the card's line)."""
        index = cls()
        real_root = root.resolve()
        pending = [(root, "")]
        while pending:
            folder, rel = pending.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue  # the notes' own listing reports a folder it cannot read
            for entry in entries:
                if entry.name.startswith(".") or not is_utf8_name(entry.name):
                    continue
                path = f"{rel}{entry.name}"
                if entry.is_symlink():
                    try:
                        target = Path(entry.path).resolve(strict=True)
                    except (OSError, RuntimeError):  # a loop, or a link to nothing
                        continue
                    if not _inside(target, real_root):
                        index.outside.add(path)
                        continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{path}/"))
                elif entry.is_file():
                    index.add(path)
        return index

    def add(self, path: str) -> None:
        self.files.add(path)
        self._by_lower_path[path.lower()] = path
        self._by_lower_name[posixpath.basename(path).lower()].append(path)

    def _lookup(self, path: str) -> str | None:
        """The vault file at this normalised path (case-insensitive, as Obsidian)."""
        if path in self.files:
            return path
        return self._by_lower_path.get(path.lower())

    def _check_inside(self, path: str, reference: str) -> None:
        if path == ".." or path.startswith("../"):
            raise BadReference(f"{reference!r} points outside the vault")
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            if "/".join(parts[:depth]) in self.outside:
                raise BadReference(f"{reference!r} is a symlink that leads outside the vault")

    def resolve_file(self, reference: str, folder: str) -> str:
        """The vault file an embed names: next to the note, then from the vault root,
        then the one file anywhere with that name (Obsidian's order)."""
        if _ABSOLUTE.match(reference):
            raise BadReference(f"{reference!r} is an absolute path; only vault files can be used")
        candidates = [posixpath.normpath(posixpath.join(folder, reference))]
        if not reference.startswith(("./", "../")):
            candidates.append(posixpath.normpath(reference))
        for path in candidates:
            self._check_inside(path, reference)
            found = self._lookup(path)
            if found:
                return found
        if "/" not in reference:
            same_name = self._by_lower_name.get(reference.lower(), [])
            if len(same_name) == 1:
                return same_name[0]
            if same_name:
                listed = ", ".join(sorted(same_name))
                raise BadReference(f"{reference!r} is ambiguous: the vault has {listed}")
        raise BadReference(f"{reference!r} not found in the vault")

    def anki_name(self, source: str) -> str:
        """The file's name in Anki's flat media folder: its basename (as O2A stores
        it) unless another vault file shares it; then a short hash of the path
        keeps the two apart."""
        name = posixpath.basename(source)
        if len(self._by_lower_name.get(name.lower(), ())) <= 1:
            return name
        stem, suffix = posixpath.splitext(name)
        return f"{stem}-{path_tag(source)}{suffix}"

    def find_note(self, target: str, folder: str) -> str | None:
        """The vault path (without `.md`) a `[[target]]` opens, or None if no file has
        that name."""
        found = self.find_note_file(target, folder)
        return found.removesuffix(".md") if found else None

    def find_note_file(self, target: str, folder: str) -> str | None:
        """The vault file a `[[target]]` names, or None if no file has that name: same folder
        first, then the shortest path (Obsidian's order)."""
        names = (target,) if target.lower().endswith(".md") else (target, f"{target}.md")
        for name in names:
            if "/" in name:
                for candidate in (name, posixpath.join(folder, name)):
                    found = self._lookup(posixpath.normpath(candidate))
                    if found:
                        return found
                continue
            same_name = self._by_lower_name.get(name.lower(), [])
            if same_name:
                near = [p for p in same_name if posixpath.dirname(p) == folder]
                return near[0] if near else min(same_name, key=lambda p: (p.count("/"), p))
        return None
