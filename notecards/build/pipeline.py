"""The build pipeline: vault -> rendered notes -> IDs written back -> one .apkg.

Order matters for safety: nothing is written while the vault has errors; IDs reach the
markdown files before the package exists (a package whose IDs are not in the vault would
import as notes the next build cannot recognise); the package is written last, atomically.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from notecards.build.manifest import (
    Manifest,
    load_manifest,
    note_stamps,
    output_stat,
    package_current,
    package_stamp,
    save_manifest,
)
from notecards.hashing import code_digest, file_list_digest, key
from notecards.ids import new_ids
from notecards.model import Note, RenderedNote
from notecards.output import Reporter
from notecards.problems import NotecardsError, Problem, Severity
from notecards.render import RenderCache, Renderer, VaultIndex
from notecards.targets.package import PackageWriter
from notecards.vault import Vault, load_vault, write_back


@dataclass(frozen=True)
class AssignedId:
    path: str
    line: int
    id: int


@dataclass
class BuildSummary:
    notes: int
    decks: list[str]
    media: list[str]
    ids_assigned: list[AssignedId]
    output: str
    written: bool  # False for --dry-run and when the package was already up to date
    files_written: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict:
        document = asdict(self)
        document["warnings"] = [p.format() for p in self.warnings]
        return document


def build_vault(
    root: Path, output: Path, *, dry_run: bool = False, reporter: Reporter | None = None
) -> BuildSummary:
    """Build `root` into `output`; raises NotecardsError (nothing written) on bad input,
    OSError (the vault untouched) when the package's folder cannot be written."""
    reporter = reporter or Reporter(quiet=True)
    vault = load_vault(root)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    manifest = load_manifest(root)
    inputs = inputs_digest(vault)
    if not dry_run and _unchanged(manifest, inputs, vault, output):
        vault.save_cache()  # every file parsed as before, but the cache may have been deleted
        return _summary(vault, manifest.decks, sorted(manifest.media), [], output)
    if not dry_run:
        _check_output_folder(output)
    rendered = _render_all(vault, reporter, keep_cache=not dry_run)
    assignments = _assign_ids(vault.parsed.notes)
    ids_assigned = [AssignedId(n.path, n.start_line, new_id) for n, new_id in assignments]
    new_id_at = {(n.path, n.start_line): new_id for n, new_id in assignments}
    note_ids = [n.note_id or new_id_at[(n.path, n.start_line)] for n in vault.parsed.notes]
    fresh_manifest = Manifest(
        notes=note_stamps(rendered, note_ids, manifest, int(time.time())), inputs=inputs
    )
    writer = PackageWriter(vault.config.note_types, root)
    for item, note_id in zip(rendered, note_ids, strict=True):
        writer.add(item, note_id, fresh_manifest.notes[note_id][1])
    summary = _summary(vault, writer.deck_names, writer.media_names, ids_assigned, output)
    if dry_run:
        return summary
    if assignments:
        result = write_back(
            root,
            vault.parsed.files,
            new_id_at,
            config=vault.config,
            notes=[n for n, _ in assignments],
            parse_cache=vault.parse_cache,
        )
        summary.files_written = result.files_written
        if result.problems:
            raise NotecardsError(result.problems)
    vault.save_cache()
    fresh_manifest.decks, fresh_manifest.media = writer.deck_names, writer.media_stats()
    fresh_manifest.package = package_stamp(fresh_manifest, output)
    if not package_current(manifest.package, fresh_manifest.package, output):
        reporter.info(f"writing {output}")
        writer.write(output)
        summary.written = True
    fresh_manifest.package.update(output_stat(output))
    if fresh_manifest != manifest:
        save_manifest(root, fresh_manifest)
    return summary


def _summary(
    vault: Vault, decks: list[str], media: list[str], ids: list[AssignedId], output: Path
) -> BuildSummary:
    return BuildSummary(
        notes=len(vault.parsed.notes),
        decks=decks,
        media=media,
        ids_assigned=ids,
        output=str(output),
        written=False,
        warnings=[p for p in vault.parsed.problems if p.severity is Severity.WARNING],
    )


def inputs_digest(vault: Vault) -> str:
    """Everything a build's package follows from, cheap to compute without rendering: the
    code (with the versions of the libraries that render and write the package), the
    settings, each markdown file's bytes, and the vault's file list (links and embeds resolve
    against it). Media contents are checked apart, by size and mtime."""
    snapshots = sorted(vault.parsed.files.items())
    files = "\n".join(f"{path}\0{snapshot.digest}" for path, snapshot in snapshots)
    index = VaultIndex.scan(vault.root)
    listing = file_list_digest(index.files, index.outside)
    return key(code_digest(), repr(vault.config.content_settings()), files, listing)


def _unchanged(manifest: Manifest, inputs: str, vault: Vault, output: Path) -> bool:
    """The last build read exactly these inputs, its media files and its package are as it
    left them: rendering again would write the very same package, so nothing is done."""
    if not manifest.inputs or manifest.inputs != inputs:
        return False
    if any(note.note_id is None for note in vault.parsed.notes):
        return False  # IDs to assign: never the case right after a build
    for source, size, mtime_ns in manifest.media.values():
        try:
            stat = os.stat(source)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
            return False
    recorded = manifest.package
    return recorded.get("output") == str(output.resolve()) and package_current(
        recorded, recorded, output
    )


def _check_output_folder(output: Path) -> None:
    """Fail (OSError) before the vault is touched when the package could not be written:
    IDs written back for a package that never comes would be the only change."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=output.parent):
        pass  # the package is written the same way: a temp file in this folder, renamed


def _render_all(vault: Vault, reporter: Reporter, *, keep_cache: bool) -> list[RenderedNote]:
    """Render every note, through the vault's render cache; every bad note reported at once.

    A dry run reads an existing cache but never creates, repairs or updates one (it writes
    nothing, not even over a cache file it cannot read).
    """
    cache = RenderCache.for_vault(vault.root, read_only=not keep_cache)
    renderer = Renderer(vault.config, vault.root, cache)
    rendered: list[RenderedNote] = []
    problems = []
    try:
        for note in reporter.progress(vault.parsed.notes, "rendering"):
            try:
                rendered.append(renderer.render(note))
            except NotecardsError as exc:
                problems.extend(exc.problems)
        cache.save(prune=not problems)  # a read-only cache keeps its file as it is
    finally:
        cache.close()
    if problems:
        raise NotecardsError(problems)
    return rendered


def _assign_ids(notes: list[Note]) -> list[tuple[Note, int]]:
    """A fresh ID for every note that has none, in file order."""
    used = {n.note_id for n in notes if n.note_id is not None}
    fresh = [n for n in notes if n.note_id is None]
    return list(zip(fresh, new_ids(len(fresh), used), strict=True))
