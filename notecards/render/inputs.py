"""What a vault's notes follow from, as one digest, and the last build's verdict on them.

`inputs_digest` covers the code (with the versions of the libraries that render and write the
package), the settings, each markdown file's bytes and the vault's file list (links and embeds
resolve against it): a build whose inputs are unchanged would write the very same package, and
every file would parse, and every note render and break the rules (render/checks.py), just as
before. So a build records, with its inputs, every problem it found but the listing's (those
depend on the folders, and are found again) and how many notes each file holds
(`save_verdict`); `check` of the very same inputs takes them from there instead of parsing and
rendering the vault again (`last_verdict`). Only a build writes it; check only reads. A cache:
deleting it costs a check one full run.

Kept apart from the renderer so that reading the verdict imports no markdown library.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notecards.config import VaultConfig
from notecards.hashing import code_digest, file_list_digest, key
from notecards.model import FileSnapshot, Note
from notecards.problems import Problem, Severity
from notecards.render.vault_index import VaultIndex
from notecards.vault.atomic import write_json
from notecards.vault.state_dir import CHECKED

if TYPE_CHECKING:
    from notecards.vault import Vault

KINDS = ("block", "inline", "regex")  # how a note is written (model.Note.kind)


def notes_per_file(files: Iterable[str], notes: Iterable[Note]) -> dict[str, tuple[int, ...]]:
    """Per file, how many notes of each kind (`KINDS`) it holds: a verdict's `notes`."""
    counts = {path: [0] * len(KINDS) for path in files}
    for note in notes:
        counts[note.path][KINDS.index(note.kind)] += 1
    return {path: tuple(n) for path, n in counts.items()}


def embeds_unread_text(deps: Iterable[Iterable[tuple]], files: Collection[str]) -> bool:
    """Whether any of these notes' deps embeds the text of a markdown file that is not among
    the vault's note `files` (outside `scan_dir`, or ignored): no inputs digest holds its
    bytes, so none can tell that nothing changed."""
    embedded = set().union(*(embedded_files(each) for each in deps))
    return any(f.lower().endswith(".md") and f not in files for f in embedded)


def embedded_files(deps: Iterable[tuple]) -> set[str]:
    """The markdown files whose text a note's deps show (a note embedded, or a section of one)."""
    return {d[2].partition("\0")[0] for d in deps if d[0] == "embed"}


def inputs_digest(vault: Vault) -> str:
    """Everything a vault's notes follow from (`files_digest`), for a loaded vault."""
    return files_digest(vault.root, vault.config, vault.parsed.files)


def files_digest(root: Path, config: VaultConfig, files: dict[str, FileSnapshot]) -> str:
    """Everything a vault's notes follow from, cheap to compute without parsing. Media
    contents are not in it: no note's HTML or rule reads them (a build checks them apart,
    by size and mtime)."""
    listed = "\n".join(f"{path}\0{files[path].digest}" for path in sorted(files))
    index = VaultIndex.scan(root)
    listing = file_list_digest(index.files, index.outside)
    return key(code_digest(), repr(config.content_settings()), listed, listing)


@dataclass
class Verdict:
    """What a build found in the files it read: every problem but the listing's (those of
    reading and parsing, then those of the rendered notes), per file how many notes of each
    kind (`KINDS`) it holds, and how many notes have no ID (in a read-only file)."""

    loaded: list[Problem]
    rendered: list[Problem]
    notes: dict[str, tuple[int, ...]]
    unnumbered: int

    @property
    def problems(self) -> list[Problem]:
        return self.loaded + self.rendered


def last_verdict(root: Path, inputs: str, paths: Collection[str]) -> Verdict | None:
    """The last build's verdict, if it read these very `inputs` (from the files at `paths`);
    None when it read others (or there is no such record, or it is damaged)."""
    try:
        document = json.loads((root / CHECKED).read_text(encoding="utf-8"))
        if document["inputs"] != inputs:
            return None
        loaded, rendered = (_problems(document[part]) for part in ("loaded", "rendered"))
        columns = document["notes"]  # per kind, a count per file in path order
        if len(columns) != len(KINDS) or any(
            len(column) != len(paths) or not all(type(n) is int for n in column)
            for column in columns
        ):
            return None
        notes = dict(zip(sorted(paths), zip(*columns, strict=True), strict=True))
        return Verdict(loaded, rendered, notes, int(document["unnumbered"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_verdict(root: Path, inputs: str, verdict: Verdict) -> None:
    """Record a build's verdict on `inputs` (every problem in a file, where it is in that
    file), unless it is recorded already. Never fails a build."""
    if any(p.where is None for p in verdict.problems):
        return  # (a problem in no file is not the files' own)
    if last_verdict(root, inputs, verdict.notes) == verdict:
        return
    paths = sorted(verdict.notes)
    document = {
        "inputs": inputs,
        "loaded": [[p.path, p.line, p.message, p.severity.value] for p in verdict.loaded],
        "rendered": [[p.path, p.line, p.message, p.severity.value] for p in verdict.rendered],
        "notes": [[verdict.notes[path][kind] for path in paths] for kind in range(len(KINDS))],
        "unnumbered": verdict.unnumbered,
    }
    with suppress(OSError, ValueError):  # a read-only state folder; ValueError: a surrogate
        write_json(root / CHECKED, document, durable=False)


def _problems(rows: list) -> list[Problem]:
    return [
        Problem.at(path, line, message, Severity(severity))
        for path, line, message, severity in rows
    ]
