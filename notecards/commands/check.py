"""`notecards check VAULT`: every problem as `path:line: message`, exit 1 on errors.

The vault and render stages, and even the reporting modules, are imported when the command
runs, not for `notecards --help` (which reads every command's help)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from notecards import exit_codes

if TYPE_CHECKING:
    from notecards.output import Reporter
    from notecards.problems import Problem
    from notecards.vault import Vault

# How each kind of note is counted in `--json`'s `found`.
_KIND_KEYS = {"block": "blocks", "inline": "inline_notes", "regex": "regex_notes"}


@click.command()
@click.argument("vault", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Only the problems; no progress or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON on stdout.")
def check(vault: Path, quiet: bool, as_json: bool) -> None:
    """Check VAULT's cards without writing anything (exit 1 when there are errors)."""
    from notecards.output import Reporter, count, problems_json
    from notecards.problems import errors

    reporter = Reporter(quiet=quiet, as_json=as_json)
    checked = _check(vault, reporter)
    problems = checked.problems
    prefix = str(vault)
    failed = len(errors(problems))
    if as_json:
        reporter.emit_json(
            {
                "problems": problems_json(problems, prefix),
                "errors": failed,
                "warnings": len(problems) - failed,
                "notes": checked.note_count,
                "files": len(checked.notes),
                "found": _found(checked, prefix),
            }
        )
    else:
        reporter.problems(problems, prefix=prefix)
        warned = len(problems) - failed
        reporter.result(
            f"{count(len(checked.notes), 'file')}, {count(checked.note_count, 'note')}: "
            f"{count(failed, 'error')}, {count(warned, 'warning')}"
        )
    if failed:
        raise SystemExit(exit_codes.BAD_INPUT)


class _Checked(NamedTuple):  # not a dataclass: `notecards --help` imports this module
    problems: list[Problem]
    # Every markdown file read (vault-relative) -> how many notes of each kind it gave.
    notes: dict[str, Counter[str]]

    @property
    def note_count(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.notes.values())


def _check(root: Path, reporter: Reporter) -> _Checked:
    """Every problem in the vault, sorted by place; the notes of each file read.

    When the vault's files are those the last build read (their bytes, the file list, the
    settings, the code), what it found in them stands (render/inputs.py): nothing is parsed
    or rendered. Otherwise the vault is loaded and every note rendered."""
    from notecards.problems import NotecardsError
    from notecards.render.inputs import KINDS, files_digest, last_verdict
    from notecards.vault import load_vault, read_vault_files

    try:
        read = read_vault_files(root, lambda paths: reporter.progress(paths, "reading"))
    except NotecardsError as err:
        return _Checked(err.problems, {})
    files = read.files
    verdict = last_verdict(read.root, files_digest(read.root, read.config, files), files)
    if verdict is not None:
        problems = read.problems + verdict.problems
        notes = {
            path: Counter(dict(zip(KINDS, n, strict=True))) for path, n in verdict.notes.items()
        }
    else:
        vault = load_vault(root, lambda paths: reporter.progress(paths, "parsing"), read)
        problems = vault.parsed.problems + _render_problems(vault, reporter)
        notes = {path: Counter() for path in vault.parsed.files}
        for note in vault.parsed.notes:
            notes[note.path][note.kind] += 1
    problems.sort(key=lambda p: (p.path or "", p.line or 0))
    return _Checked(problems, notes)


def _render_problems(vault: Vault, reporter: Reporter) -> list[Problem]:
    """Every note rendered and held to the rules."""
    from notecards.model import RenderedNote
    from notecards.render import RenderCache, Renderer, check_note, note_problems
    from notecards.render.pool import render_all

    problems: list[Problem] = []
    # The last build's HTML where it still holds (only read: check writes nothing), the rest
    # rendered on every core when there is much of it; every note held to the rules.
    cache = RenderCache.for_vault(vault.root, read_only=True)
    renderer = Renderer(vault.config, vault.root, cache)
    notes = vault.parsed.notes
    try:
        with reporter.counting(len(notes), "rendering") as done:
            outcomes = render_all(renderer, notes, done)
        for note, outcome in zip(notes, outcomes, strict=True):
            if isinstance(outcome, RenderedNote):
                problems += note_problems(outcome, vault.config)
            else:  # rendered again for its problems as check words them (rare: an error)
                problems += check_note(note, vault.config, renderer)
    finally:
        cache.close()
    return problems


def _found(checked: _Checked, prefix: str) -> list[dict[str, Any]]:
    """Per file, how many notes of each kind it gave: a user who wrote five inline notes
    sees whether five were read (the problems say why one was not)."""
    from notecards.problems import shown_path

    return [
        {
            "path": shown_path(prefix, path),
            **{key: checked.notes[path][kind] for kind, key in _KIND_KEYS.items()},
        }
        for path in sorted(checked.notes)
    ]
