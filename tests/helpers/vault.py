"""Small vaults written on the fly (the project's own fixtures), and the IDs written back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from notecards.model import Note

ID_LINE = re.compile(r"^<!--ID: (\d+)-->$", re.MULTILINE)


def block(front: str, back: str, tags: str = "ml", note_id: int | None = None) -> str:
    """One Basic block in O2A syntax, with its ID line when `note_id` is given."""
    id_line = f"<!--ID: {note_id}-->\n" if note_id else ""
    return f"START\nBasic\n{front}\nBack: {back}\nTags: {tags}\n{id_line}END\n"


def write_vault(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write each file byte for byte (text as UTF-8, line endings untouched); returns `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root


def ids_in(path: Path) -> list[int]:
    """The IDs written into a markdown file, in file order."""
    return [int(i) for i in ID_LINE.findall(path.read_text(encoding="utf-8"))]


def with_id(text: str, note: Note, note_id: int) -> str:
    """`text` with `note_id` written into the note's ID slot, as the write-back does it."""
    slot = note.id_slot
    assert slot is not None, "the note already has an ID"
    return text[: slot.offset] + slot.text.format(id=note_id) + text[slot.offset :]
