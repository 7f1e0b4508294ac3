"""What a vault's rendered notes follow from, as one digest, and the rules' verdict on them.

`inputs_digest` covers the code (with the versions of the libraries that render and write the
package), the settings, each markdown file's bytes and the vault's file list (links and embeds
resolve against it): a build whose inputs are unchanged would write the very same package, and
every note would render and break the rules (render/checks.py) just as before. So a build
records, with its inputs, the problems the rules found in its rendered notes (`save_checked`),
and `check` of the very same inputs takes them from there instead of rendering every note
again (`checked_problems`). Only a build writes it; check only reads. A cache: deleting it
costs a check one full render.

Kept apart from the renderer so that reading the verdict imports no markdown library.
"""

from __future__ import annotations

import json
from contextlib import suppress
from pathlib import Path

from notecards.hashing import code_digest, file_list_digest, key
from notecards.problems import Problem, Severity
from notecards.render.vault_index import VaultIndex
from notecards.vault import Vault
from notecards.vault.atomic import write_json
from notecards.vault.state_dir import CHECKED


def inputs_digest(vault: Vault) -> str:
    """Everything a vault's rendered notes follow from, cheap to compute without rendering.
    Media contents are not in it: no note's HTML or rule reads them (a build checks them
    apart, by size and mtime)."""
    snapshots = sorted(vault.parsed.files.items())
    files = "\n".join(f"{path}\0{snapshot.digest}" for path, snapshot in snapshots)
    index = VaultIndex.scan(vault.root)
    listing = file_list_digest(index.files, index.outside)
    return key(code_digest(), repr(vault.config.content_settings()), files, listing)


def checked_problems(root: Path, inputs: str) -> list[Problem] | None:
    """The problems the last build's rendered notes had, if it read these very `inputs`;
    None when it read others (or there is no such record, or it is damaged)."""
    try:
        document = json.loads((root / CHECKED).read_text(encoding="utf-8"))
        if document["inputs"] != inputs:
            return None
        return [
            Problem.at(path, line, message, Severity(severity))
            for path, line, message, severity in document["problems"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_checked(root: Path, inputs: str, problems: list[Problem]) -> None:
    """Record what the rules found in the notes rendered from `inputs` (every problem in a
    file, where it is in that file), unless it is recorded already. Never fails a build."""
    if any(p.where is None for p in problems) or checked_problems(root, inputs) == problems:
        return  # (a rendered note's problems all have their place)
    rows = [[p.path, p.line, p.message, p.severity.value] for p in problems]
    with suppress(OSError, ValueError):  # a read-only state folder; ValueError: a surrogate
        write_json(root / CHECKED, {"inputs": inputs, "problems": rows}, durable=False)
