"""Which deck and tags a note's folder gives it (O2A's folder decks and folder tags)."""

from __future__ import annotations

import posixpath
from functools import lru_cache

from notecards.config import VaultConfig


def _ancestors(path: str) -> tuple[str, ...]:
    """A note's folders, innermost first ("a/b/n.md" -> ("a/b", "a", ""))."""
    return _folders(posixpath.dirname(path))


@lru_cache(maxsize=4096)  # a vault's notes share few folders
def _folders(folder: str) -> tuple[str, ...]:
    parent = posixpath.dirname(folder)
    if not folder or parent == folder:
        return (folder,)
    return (folder, *_folders(parent))


def deck_for_folder(config: VaultConfig, path: str) -> str | None:
    """The deck a note's folder gives: innermost O2A folder deck, or its folder path."""
    for folder in _ancestors(path):
        if config.folder_decks.get(folder):
            return config.folder_decks[folder]
    parent = _ancestors(path)[0]
    if config.deck_from_folder and parent:
        return parent.replace("/", "::")
    return None


def tags_for_folder(config: VaultConfig, path: str) -> list[str]:
    """Tags from every folder above a note, innermost first (as O2A collects them)."""
    return [tag for folder in _ancestors(path) for tag in config.folder_tags.get(folder, ())]
