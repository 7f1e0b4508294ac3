"""The build pipeline: vault -> rendered notes -> IDs written back -> one .apkg.

Order matters for safety: nothing is written while the vault has errors; IDs reach the
markdown files before the package exists (a package whose IDs are not in the vault would
import as notes the next build cannot recognise); the package is written last, atomically.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from notecards.build.manifest import (
    Manifest,
    load_manifest,
    note_stamp,
    output_stat,
    package_current,
    package_stamp,
    save_manifest,
)
from notecards.build.output import check_output
from notecards.bulk import long_lived
from notecards.ids import new_ids
from notecards.model import Note, RenderedNote
from notecards.output import Reporter, count
from notecards.problems import FileError, NotecardsError, Problem, Severity, errors
from notecards.render import RenderCache, Renderer, note_problems
from notecards.render.inputs import (
    Verdict,
    embeds_unread_text,
    files_digest,
    inputs_digest,
    last_verdict,
    notes_per_file,
    save_verdict,
)
from notecards.render.pool import RenderFeed
from notecards.targets.package import PackageWriter
from notecards.vault import (
    Vault,
    VaultFiles,
    cache_parses,
    load_vault,
    read_vault_files,
    write_back,
)
from notecards.vault.atomic import remove_stale_temp_files
from notecards.vault.files import is_read_only
from notecards.vault.lock import vault_lock
from notecards.vault.state_dir import PARSE_CACHE, STATE_DIR


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
    # Left out of the package, each at its place (a new card in a read-only file): exit 5.
    left_out: list[Problem] = field(default_factory=list)
    # What the package holds, per note (--dry-run lists them): where, type, deck, ID.
    contents: list[dict[str, object]] = field(default_factory=list)

    def to_json(self) -> dict:
        document = asdict(self)
        document["warnings"] = [p.format() for p in self.warnings]
        document["left_out"] = [p.format() for p in self.left_out]
        return document


def build_vault(
    root: Path,
    output: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    reporter: Reporter | None = None,
) -> BuildSummary:
    """Build `root` into `output`, holding the vault's lock; raises NotecardsError (nothing
    written) on bad input or an output it must not replace (`force`: one that exists and is
    not an Anki package), VaultBusy while another run writes the vault, FileError when the
    package cannot be written."""
    reporter = reporter or Reporter(quiet=True)
    if dry_run:
        return _build(root, output, dry_run=True, reporter=reporter)
    last_output = str(load_manifest(root).package.get("output", ""))
    check_output(root, output, force=force, last_output=last_output)
    with vault_lock(root, waiting=reporter.info):
        return _build(root, output, dry_run=False, reporter=reporter)


def _build(root: Path, output: Path, *, dry_run: bool, reporter: Reporter) -> BuildSummary:
    read = read_vault_files(root, lambda paths: reporter.progress(paths, "reading"))
    if not dry_run and (summary := _as_left(read, output)) is not None:
        return summary
    cache = RenderCache.for_vault(read.root, read_only=dry_run)
    try:  # the notes rendered as they are parsed (in workers, when there are many)
        with RenderFeed(Renderer(read.config, read.root, cache)) as feed:
            return _load_and_build(read, output, (cache, feed), dry_run=dry_run, reporter=reporter)
    finally:
        cache.close()


def _load_and_build(
    read: VaultFiles,
    output: Path,
    rendering: tuple[RenderCache, RenderFeed],
    *,
    dry_run: bool,
    reporter: Reporter,
) -> BuildSummary:
    """Parse the files read (their notes to the feed of `rendering`, which renders through
    its cache), then render, write IDs, package."""
    cache, feed = rendering

    def parsing(paths: Sequence[str]) -> Iterator[str]:  # (the workers render meanwhile)
        return reporter.progress(paths, "parsing", also=lambda: f"{feed.rendered()} notes rendered")

    vault = load_vault(read.root, parsing, read, on_notes=feed.add)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    if not dry_run:
        remove_stale_temp_files(_vault_folders(vault.root, vault.parsed.files))
    manifest = load_manifest(vault.root)
    inputs = inputs_digest(vault)
    unnumbered = any(note.note_id is None for note in vault.parsed.notes)
    if not dry_run and _unchanged(manifest, inputs, unnumbered, output):
        vault.save_cache()  # every file parsed as before, but the cache may have been deleted
        return _summary(vault, manifest.decks, sorted(manifest.media), [], output)
    if not dry_run:
        try:
            _check_output_folder(output)
        except OSError as err:
            raise FileError("write", output, err) from err
    packing = _Packing(vault, manifest, read)
    if not dry_run and vault.parse_cache is not None:  # while the workers render, not after
        vault.parse_cache.encode(but={note.path for note, _ in packing.assignments})
    rendered, problems = _render_all(vault, reporter, feed, packing.add)
    return _package(
        vault, packing, (rendered, problems), inputs, (output, cache), reporter, dry_run=dry_run
    )


class _Packing:
    """The package, note by note as each comes back rendered (its rows made while the
    workers render the rest: the write at the end only inserts them): every note under its
    ID, a new one for each block that has none, given before rendering starts. A new card in
    a file that cannot be written is left out (it would get an ID the file cannot keep)."""

    def __init__(self, vault: Vault, manifest: Manifest, read: VaultFiles):
        self.manifest = manifest
        notes = vault.parsed.notes
        needing = {note.path for note in notes if note.note_id is None}
        self.read_only = {path for path in needing if is_read_only(vault.root / path)}
        # The files the IDs go into, as read: write-back does not read them again.
        self.texts = {
            path: one[0]
            for path in needing - self.read_only
            if isinstance(one := read.reads[path], tuple)
        }
        self.assignments = _assign_ids(
            [n for n in notes if n.note_id is not None or n.path not in self.read_only]
        )
        self.new_id_at = {(n.path, n.start_line): new_id for n, new_id in self.assignments}
        self.now = int(time.time())
        self.writer = PackageWriter(vault.config.note_types, vault.root)
        self.kept: list[tuple[RenderedNote, int]] = []  # with the ID each is packed under
        self.stamps: dict[int, tuple[str, int]] = {}  # the fresh manifest's
        self.left_out: list[Problem] = []
        self.failed: NotecardsError | None = None  # the first note the writer refused

    def add(self, item: RenderedNote) -> None:
        note = item.note
        if note.note_id is None and note.path in self.read_only:
            message = (
                "a new card here needs an ID, but the file is read-only: it is left out of"
                " the package (make the file writable and build again)"
            )
            self.left_out.append(Problem(message, note.location))
            return
        note_id = note.note_id or self.new_id_at[(note.path, note.start_line)]
        stamp = self.stamps[note_id] = note_stamp(item, self.manifest.notes.get(note_id), self.now)
        self.kept.append((item, note_id))
        if self.failed is None:  # (raised after the render's own problems, which come first)
            try:
                self.writer.add(item, note_id, stamp[1])
            except NotecardsError as error:
                self.failed = error


def _package(
    vault: Vault,
    packing: _Packing,
    rendering: tuple[list[RenderedNote], list[Problem]],
    inputs: str,
    written: tuple[Path, RenderCache],
    reporter: Reporter,
    *,
    dry_run: bool,
) -> BuildSummary:
    """Write the new blocks' IDs back, then the package of every note `packing` kept, and
    the render cache (`written`: the package's path, the cache). `rendering`: every note
    rendered, and what the rules found in them."""
    output, cache = written
    if packing.failed is not None:
        raise packing.failed
    manifest, writer, kept = packing.manifest, packing.writer, packing.kept
    assignments, new_id_at = packing.assignments, packing.new_id_at
    ids_assigned = [AssignedId(n.path, n.start_line, new_id) for n, new_id in assignments]
    fresh_manifest = Manifest(notes=packing.stamps, inputs=inputs)
    summary = _summary(vault, writer.deck_names, writer.media_names, ids_assigned, output)
    summary.left_out = packing.left_out
    summary.notes = len(kept)
    summary.contents = [
        {
            "where": str(item.note.location),
            "note_type": item.note.note_type,
            "deck": item.note.deck,
            "id": note_id,
            "new": item.note.note_id is None,
        }
        for item, note_id in kept
    ]
    if dry_run:
        return summary
    if assignments:
        files = len({note.path for note, _ in assignments})
        reporter.info(f"writing {len(assignments)} new ID(s) into {count(files, 'file')}")
        with reporter.counting(files, "writing IDs") as done:
            result = write_back(
                vault.root,
                vault.parsed.files,
                new_id_at,
                config=vault.config,
                notes=[n for n, _ in assignments],
                texts=packing.texts,
                done=done,
            )
        if vault.parse_cache is not None:
            cache_parses(result.unparsed, vault.parse_cache, vault.config)
        summary.files_written = result.files_written
        if result.problems:
            raise NotecardsError(result.problems)
        # The files as they now are, IDs in, are what the next build reads: recorded so, it
        # finds nothing changed (a file the user edited meanwhile keeps its old digest).
        for path, digest in result.digests.items():
            vault.parsed.files[path] = replace(vault.parsed.files[path], digest=digest)
        fresh_manifest.inputs = inputs_digest(vault)
    if embeds_unread_text((item.deps for item, _ in kept), vault.parsed.files):
        fresh_manifest.inputs = ""  # the next build renders again (from the render cache)
    _save_verdict(vault, fresh_manifest.inputs, rendering, len(assignments))
    # The render cache's rows go in (in a thread) while the package is written; kept only
    # once it is: a failed build leaves no cache behind.
    with cache.saving(prune=not packing.left_out):
        vault.save_cache()
        fresh_manifest.decks, fresh_manifest.media = writer.deck_names, writer.media_stats()
        fresh_manifest.package = package_stamp(fresh_manifest, output)
        if not package_current(manifest.package, fresh_manifest.package, output):
            reporter.info(f"writing {output} ({count(len(kept), 'note')})")
            try:
                writer.write(output)
            except OSError as err:
                raise FileError("write", output, err) from err
            summary.written = True
    fresh_manifest.package.update(output_stat(output))
    if fresh_manifest != manifest:
        try:
            save_manifest(vault.root, fresh_manifest)
        except OSError as err:  # the package is written; only the next build's mods suffer
            message = f"cannot save the build manifest ({err.strerror}): the next build gives"
            summary.warnings.append(
                Problem(message + " every note a new modification time", severity=Severity.WARNING)
            )
    return summary


def _save_verdict(
    vault: Vault, inputs: str, rendering: tuple[list[RenderedNote], list[Problem]], assigned: int
) -> None:
    """Keep what this build found in the vault (render/inputs.py), for `check` and the next
    build: every problem but the listing's (those the load found first: the vault is not
    listed again, as the inputs hold the file list and check lists the files itself). Not
    when new ID lines moved the lines of a problem below them, or a note embeds the text of
    a markdown file that is not one of the vault's notes (outside `scan_dir`, or ignored):
    the inputs do not hold its bytes."""
    notes, rendered = rendering
    if embeds_unread_text((n.deps for n in notes), vault.parsed.files):
        return
    listed = vault.listed
    problems, cache = vault.parsed.problems, vault.parse_cache
    if problems[: len(listed)] != listed or problems[len(problems) - len(rendered) :] != rendered:
        return
    loaded = problems[len(listed) : len(problems) - len(rendered)]
    if assigned and (
        loaded or rendered or not cache or not all(map(cache.clean, vault.parsed.files))
    ):
        return
    notes = notes_per_file(vault.parsed.files, vault.parsed.notes)
    unnumbered = sum(note.note_id is None for note in vault.parsed.notes) - assigned
    save_verdict(vault.root, inputs, Verdict(loaded, rendered, notes, unnumbered))


def _vault_folders(root: Path, paths: Iterable[str]) -> set[Path]:
    """Where a killed run may have left a temp file: beside each note file, and `.notecards/`."""
    folders = {posixpath.dirname(path) for path in paths}
    return {root / folder for folder in folders} | {root / STATE_DIR}


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


def _as_left(read: VaultFiles, output: Path) -> BuildSummary | None:
    """The summary of a build with nothing to do, told from the files' bytes alone, without
    parsing any (the last build's verdict on them, render/inputs.py); None when there may
    be something to do, or the parse cache to write again."""
    root, files, problems = read.root, read.files, read.problems
    if not (root / PARSE_CACHE).is_file() or errors(problems):
        return None
    inputs = files_digest(root, read.config, files)
    verdict = last_verdict(root, inputs, files)
    if verdict is None:
        return None
    manifest = load_manifest(root)
    if not _unchanged(manifest, inputs, verdict.unnumbered > 0, output):
        return None
    remove_stale_temp_files(_vault_folders(root, files))
    return BuildSummary(
        notes=sum(sum(counts) for counts in verdict.notes.values()),
        decks=manifest.decks,
        media=sorted(manifest.media),
        ids_assigned=[],
        output=str(output),
        written=False,
        warnings=[p for p in problems + verdict.loaded if p.severity is Severity.WARNING],
    )


def _unchanged(manifest: Manifest, inputs: str, unnumbered: bool, output: Path) -> bool:
    """The last build read exactly these inputs, its media files and its package are as it
    left them: rendering again would write the very same package, so nothing is done."""
    if not manifest.inputs or manifest.inputs != inputs:
        return False
    if unnumbered:
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


def _render_all(
    vault: Vault, reporter: Reporter, feed: RenderFeed, packed: Callable[[RenderedNote], None]
) -> tuple[list[RenderedNote], list[Problem]]:
    """Every note rendered (`feed` had them as they were parsed), through the vault's render
    cache (on every core when there are many to render), and held to the rules check
    applies, each handed to `packed` as it comes; every bad note reported at once (raises
    NotecardsError), its warnings kept (and returned)."""
    rendered: list[RenderedNote] = []
    problems = []
    # (the notes rendered and packed live to the end, made with the collector off: bulk.py)
    with long_lived(), reporter.counting(len(vault.parsed.notes), "rendering") as done:
        for outcome in feed.outcomes(done):  # each held to the rules while workers render on
            if isinstance(outcome, RenderedNote):
                rendered.append(outcome)
                problems += note_problems(outcome, vault.config)
                packed(outcome)
            else:
                problems += outcome
    if errors(problems):
        raise NotecardsError(problems)
    vault.parsed.problems += problems  # warnings only: the summary reports them
    return rendered, problems


def _assign_ids(notes: list[Note]) -> list[tuple[Note, int]]:
    """A fresh ID for every note that has none, in file order."""
    used = {n.note_id for n in notes if n.note_id is not None}
    fresh = [n for n in notes if n.note_id is None]
    return list(zip(fresh, new_ids(len(fresh), used), strict=True))
