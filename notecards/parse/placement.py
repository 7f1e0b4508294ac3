"""Which deck and tags a note's folder gives it (O2A's folder decks and folder tags)."""

from __future__ import annotations

from pathlib import PurePosixPath

from notecards.config import VaultConfig


def _ancestors(path: str) -> list[str]:
    """A note's folders, innermost first ("a/b/n.md" -> ["a/b", "a", ""])."""
    parents = [str(p) for p in PurePosixPath(path).parents]
    return ["" if p == "." else p for p in parents]


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
