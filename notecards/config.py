"""Vault settings: notecards.yaml, or Obsidian_to_Anki's data.json for migrating vaults.

(Loading is filled in by the parser work; the fields below are the contract the
parser, renderer and targets read.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notecards.model import BUILTIN_NOTE_TYPES, NoteType


@dataclass
class VaultConfig:
    vault_name: str  # for obsidian:// links; defaults to the vault folder's name
    default_deck: str = "Default"
    default_tags: tuple[str, ...] = ()
    deck_from_folder: bool = False  # deck = the note's folder path, "a/b" -> "a::b"
    folder_decks: dict[str, str] = field(default_factory=dict)  # folder -> deck (O2A)
    folder_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> tags
    curly_cloze: bool = False  # {x}, {2:x}, ... in Cloze note types
    highlights_to_cloze: bool = False  # ==x== is a cloze too
    note_types: dict[str, NoteType] = field(default_factory=lambda: dict(BUILTIN_NOTE_TYPES))
    ignore: tuple[str, ...] = ("**/*.excalidraw.md",)  # globs, vault-relative
    scan_dir: str = ""  # only this folder (recursive) is read, when set
    custom_regexps: dict[str, str] = field(default_factory=dict)  # note type -> regex (O2A)
    add_context: bool = False
    add_file_link: bool = False
    add_obsidian_tags: bool = False  # #tag in a note's text becomes an Anki tag
