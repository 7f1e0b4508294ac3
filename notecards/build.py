"""The build pipeline: vault -> rendered notes -> IDs written back -> one .apkg.

Order matters for safety: nothing is written while the vault has errors; IDs reach the
markdown files before the package exists (a package whose IDs are not in the vault would
import as notes the next build cannot recognise); the package is written last, atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

from notecards.atomic import write_json
from notecards.cache import RenderCache
from notecards.ids import new_ids
from notecards.media import VaultIndex
from notecards.model import Note, NotecardsError, Problem, RenderedNote, Severity
from notecards.output import Reporter
from notecards.render import Renderer, render_code_digest
from notecards.state import STATE_DIR
from notecards.targets.package import PackageWriter
from notecards.vault import Vault, load_vault
from notecards.writeback import write_back

MANIFEST_FILE = "build-manifest.json"
# Bump when the meaning of a manifest field changes; an older manifest is then ignored.
MANIFEST_FORMAT = 2


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


@dataclass
class _Manifest:
    """What the last build wrote, and from what; a cache: deleting it only means every
    note gets a fresh mod and the package is rewritten once.

    notes: per note id (rendered digest, mod). inputs: a digest of everything the build
    read (see `_inputs_digest`). media: Anki name -> (source, size, mtime_ns). package: the
    package's digest, resolved path, size and mtime_ns as written.
    """

    notes: dict[int, tuple[str, int]] = field(default_factory=dict)
    package: dict[str, object] = field(default_factory=dict)
    inputs: str = ""
    decks: list[str] = field(default_factory=list)
    media: dict[str, tuple[str, int, int]] = field(default_factory=dict)


def build_vault(
    root: Path, output: Path, *, dry_run: bool = False, reporter: Reporter | None = None
) -> BuildSummary:
    """Build `root` into `output`; raises NotecardsError (nothing written) on bad input,
    OSError (the vault untouched) when the package's folder cannot be written."""
    reporter = reporter or Reporter(quiet=True)
    vault = load_vault(root)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    manifest = _load_manifest(root)
    inputs = _inputs_digest(vault)
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
    fresh_manifest = _Manifest(
        notes=_note_stamps(rendered, note_ids, manifest, int(time.time())), inputs=inputs
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
    fresh_manifest.package = _package_stamp(fresh_manifest, output)
    if not _package_current(manifest.package, fresh_manifest.package, output):
        reporter.info(f"writing {output}")
        writer.write(output)
        summary.written = True
    fresh_manifest.package.update(_output_stat(output))
    if fresh_manifest != manifest:
        _save_manifest(root, fresh_manifest)
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


def _inputs_digest(vault: Vault) -> str:
    """Everything a build's package follows from, cheap to compute without rendering: the
    code (the render cache's digest of it, and genanki, which writes the package), the
    settings, each markdown file's bytes, and the vault's file list (links and embeds resolve
    against it). Media contents are checked apart, by size and mtime."""
    code = f"{render_code_digest()}\ngenanki {version('genanki')}"
    hasher = hashlib.sha256(f"{code}\n{vault.config!r}\n".encode())
    for path, snapshot in sorted(vault.parsed.files.items()):
        hasher.update(f"{path}\0{snapshot.sha256}\n".encode())
    index = VaultIndex.scan(vault.root)
    for path in sorted(index.files):
        hasher.update(f"{path}\n".encode())
    for path in sorted(index.outside):
        hasher.update(f"outside {path}\n".encode())
    return hasher.hexdigest()


def _unchanged(manifest: _Manifest, inputs: str, vault: Vault, output: Path) -> bool:
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
    return recorded.get("output") == str(output.resolve()) and _package_current(
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


def _note_stamps(
    rendered: list[RenderedNote], note_ids: list[int], manifest: _Manifest, now: int
) -> dict[int, tuple[str, int]]:
    """Per note (content digest, mod): an unchanged note keeps its mod, so an edit made in
    Anki since is not overwritten; a changed one gets a mod strictly newer than the last,
    or Anki's importer ("update if newer") keeps its old copy."""
    stamps = {}
    for item, note_id in zip(rendered, note_ids, strict=True):
        digest = _note_digest(item)
        previous = manifest.notes.get(note_id)
        if previous is None:
            stamps[note_id] = (digest, now)
        elif previous[0] == digest:
            stamps[note_id] = previous
        else:
            stamps[note_id] = (digest, max(now, previous[1] + 1))
    return stamps


def _assign_ids(notes: list[Note]) -> list[tuple[Note, int]]:
    """A fresh ID for every note that has none, in file order."""
    used = {n.note_id for n in notes if n.note_id is not None}
    fresh = [n for n in notes if n.note_id is None]
    return list(zip(fresh, new_ids(len(fresh), used), strict=True))


def _note_digest(item: RenderedNote) -> str:
    note = item.note
    payload = [
        note.note_type,
        item.fields,
        list(note.tags),
        note.deck,
        [[m.source, m.anki_name] for m in item.media],
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _package_stamp(manifest: _Manifest, output: Path) -> dict[str, object]:
    """A digest of everything the package holds (notes, mods, media files as they are now)."""
    hasher = hashlib.sha256()
    for note_id, (digest, mod) in sorted(manifest.notes.items()):
        hasher.update(f"{note_id}:{digest}:{mod}\n".encode())
    for name, (source, size, mtime_ns) in manifest.media.items():
        hasher.update(f"{name}:{source}:{size}:{mtime_ns}\n".encode())
    return {"output": str(output.resolve()), "digest": hasher.hexdigest()}


def _output_stat(output: Path) -> dict[str, int]:
    stat = output.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _package_current(old: dict[str, object], new: dict[str, object], output: Path) -> bool:
    """The file at `output` is the very package this build would write."""
    if not output.is_file() or any(old.get(k) != new.get(k) for k in ("output", "digest")):
        return False
    return all(old.get(k) == v for k, v in _output_stat(output).items())


def _manifest_path(root: Path) -> Path:
    return root / STATE_DIR / MANIFEST_FILE


def _load_manifest(root: Path) -> _Manifest:
    try:
        raw = json.loads(_manifest_path(root).read_text(encoding="utf-8"))
        if raw.get("format") != MANIFEST_FORMAT:
            return _Manifest()
        notes = {int(k): (str(v[0]), int(v[1])) for k, v in raw["notes"].items()}
        media = {str(k): (str(v[0]), int(v[1]), int(v[2])) for k, v in raw["media"].items()}
        return _Manifest(
            notes=notes,
            package=dict(raw["package"]),
            inputs=str(raw["inputs"]),
            decks=[str(d) for d in raw["decks"]],
            media=media,
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return _Manifest()


def _save_manifest(root: Path, manifest: _Manifest) -> None:
    """Atomic, like every file notecards writes: a crash leaves the old manifest or the new."""
    target = _manifest_path(root)
    payload = {
        "format": MANIFEST_FORMAT,
        "notes": {str(k): list(v) for k, v in manifest.notes.items()},
        "package": manifest.package,
        "inputs": manifest.inputs,
        "decks": manifest.decks,
        "media": {k: list(v) for k, v in manifest.media.items()},
    }
    write_json(target, payload)
