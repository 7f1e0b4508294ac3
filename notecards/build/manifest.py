"""What the last build wrote, and from what: `VAULT/.notecards/build-manifest.json`.

A cache: deleting it only means every note gets a fresh mod and the package is rewritten once.
Per note it keeps a digest of the rendered note and its `mod`, so an unchanged note keeps its
time (Anki's importer updates a note only when the incoming one is newer: an edit made in Anki
since is not overwritten by an unchanged card) and a changed one gets a newer one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from notecards.hashing import content_digest
from notecards.model import RenderedNote
from notecards.vault.atomic import write_json
from notecards.vault.state_dir import BUILD_MANIFEST

# Bump when the meaning of a manifest field changes; an older manifest is then ignored.
MANIFEST_FORMAT = 2
# What a note's digest is taken of: `json.dumps(payload, ensure_ascii=False)`'s very text, from
# one encoder made once (that call makes one a note).
_DIGEST_ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False)


@dataclass
class Manifest:
    """notes: per note id (rendered digest, mod). inputs: a digest of everything the build
    read (see `render.inputs.inputs_digest`). media: Anki name -> (source, size, mtime_ns).
    package: the package's digest, resolved path, size and mtime_ns as written."""

    notes: dict[int, tuple[str, int]] = field(default_factory=dict)
    package: dict[str, object] = field(default_factory=dict)
    inputs: str = ""
    decks: list[str] = field(default_factory=list)
    media: dict[str, tuple[str, int, int]] = field(default_factory=dict)


def note_stamp(item: RenderedNote, previous: tuple[str, int] | None, now: int) -> tuple[str, int]:
    """A note's (content digest, mod), given its `previous` one: an unchanged note keeps its
    mod, so an edit made in Anki since is not overwritten; a changed one gets a mod strictly
    newer than the last, or Anki's importer ("update if newer") keeps its old copy."""
    digest = _note_digest(item)
    if previous is None:
        return digest, now
    if previous[0] == digest:
        return previous
    return digest, max(now, previous[1] + 1)


def _note_digest(item: RenderedNote) -> str:
    note = item.note
    payload = [
        note.note_type,
        item.fields,
        list(note.tags),
        note.deck,
        [[m.source, m.anki_name] for m in item.media],
    ]
    return content_digest(_DIGEST_ENCODER.encode(payload).encode())


def package_stamp(manifest: Manifest, output: Path) -> dict[str, object]:
    """A digest of everything the package holds (notes, mods, media files as they are now)."""
    notes, media = sorted(manifest.notes.items()), manifest.media.items()
    lines = [f"{note_id}:{digest}:{mod}\n" for note_id, (digest, mod) in notes]
    lines += [f"{name}:{src}:{size}:{mtime}\n" for name, (src, size, mtime) in media]
    digest = content_digest("".join(lines).encode())
    return {"output": str(output.resolve()), "digest": digest}


def output_stat(output: Path) -> dict[str, int]:
    stat = output.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def package_current(old: dict[str, object], new: dict[str, object], output: Path) -> bool:
    """The file at `output` is the very package this build would write."""
    if not output.is_file() or any(old.get(k) != new.get(k) for k in ("output", "digest")):
        return False
    return all(old.get(k) == v for k, v in output_stat(output).items())


def load_manifest(root: Path) -> Manifest:
    """The last build's manifest, or an empty one (missing, damaged, another format)."""
    try:
        raw = json.loads((root / BUILD_MANIFEST).read_text(encoding="utf-8"))
        if raw.get("format") != MANIFEST_FORMAT:
            return Manifest()
        notes = {int(k): (str(v[0]), int(v[1])) for k, v in raw["notes"].items()}
        media = {str(k): (str(v[0]), int(v[1]), int(v[2])) for k, v in raw["media"].items()}
        return Manifest(
            notes=notes,
            package=dict(raw["package"]),
            inputs=str(raw["inputs"]),
            decks=[str(d) for d in raw["decks"]],
            media=media,
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return Manifest()


def save_manifest(root: Path, manifest: Manifest) -> None:
    """Atomic, like every file notecards writes: a crash leaves the old manifest or the new."""
    payload = {
        "format": MANIFEST_FORMAT,
        "notes": {str(k): list(v) for k, v in manifest.notes.items()},
        "package": manifest.package,
        "inputs": manifest.inputs,
        "decks": manifest.decks,
        "media": {k: list(v) for k, v in manifest.media.items()},
    }
    write_json(root / BUILD_MANIFEST, payload)
