"""Write new IDs into the user's markdown files (and drop DELETE line pairs), safely.

A user's file is the one thing notecards must never damage, so every write is atomic
(temp file beside it, flushed, renamed, the folder fsynced), keeps the file's encoding, line
endings, trailing newline and mode, and changes nothing but the inserted/removed lines.
Files are written in batches (`atomic.stage`, one `flush`, then the renames): a vault of
20,000 new cards pays one flush of the file system per batch, not two fsyncs per file; a
batch is staged while the one before is renamed (its waits are the old files freed).
A file the user edited after it was read is re-parsed and each note re-located by its
content, so the user's edit survives and the ID still lands on the right block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from notecards.config import VaultConfig
from notecards.faults import fault_point
from notecards.hashing import content_digest
from notecards.model import Deletion, FileSnapshot, Note
from notecards.parse import Line, SourceText, parse_file
from notecards.problems import Problem
from notecards.vault.atomic import (
    Staged,
    commit,
    discard,
    flush,
    fsync_folders,
    replacing,
    stage,
)
from notecards.vault.files import (
    holding_regular,
    is_read_only,
    read_regular,
    read_regular_and_mode,
)
from notecards.vault.parse_cache import ParseCache
from notecards.vault.written_parse import IdLine, parse_with_ids

# How often a file that keeps changing under us is re-read before giving up on it.
_MAX_ATTEMPTS = 3
# Files staged before one flush and their renames: bounds the temp files a kill leaves
# (the next run removes them) and the new bytes held in memory.
WRITE_BATCH = 1000
_THREADS = 16  # file system calls in flight at once
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass
class WriteBackResult:
    files_written: list[str] = field(default_factory=list)
    # The (path, start_line) keys, as passed in, whose ID is now in the file.
    written: set[tuple[str, int]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    # The new digest of each file written from the very bytes its snapshot was taken of
    # (not one the user changed meanwhile): what a build records as its inputs.
    digests: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Edit:
    """Replace text[start:end] with `text` (an insertion when start == end)."""

    start: int
    end: int
    text: str
    note_line: int | None = None  # the start line (as passed in) of the note it gives an ID
    note_id: int | None = None  # the ID it gives


def write_back(
    root: Path,
    snapshots: dict[str, FileSnapshot],
    ids: dict[tuple[str, int], int],
    deletions: Sequence[Deletion] = (),
    *,
    config: VaultConfig,
    notes: Sequence[Note],
    parse_cache: ParseCache | None = None,
    done: Callable[[int], None] = lambda files: None,
) -> WriteBackResult:
    """Insert `ids` ((path, start_line) -> new id) and remove `deletions`, file by file.

    `notes` are the notes the keys name, as parsed from the snapshots: a note is
    re-located by its content in a file the user changed since it was read. With
    `parse_cache`, each written file's new text goes into it with its parse (derived from
    the one before where that is sure: vault/written_parse.py), so the next run does not
    parse again every file that just got an ID. `done` hears how many files each batch
    took care of (a progress bar).
    """
    by_key = {(n.path, n.start_line): n for n in notes}
    wanted: dict[str, list[tuple[Note, int]]] = defaultdict(list)
    deleted: dict[str, list[Deletion]] = defaultdict(list)
    result = WriteBackResult()
    for (path, line), new_id in ids.items():
        note = by_key.get((path, line))
        if note is None:
            result.problems.append(Problem.at(path, line, "no note starts here; ID not written"))
        else:
            wanted[path].append((note, new_id))
    for deletion in deletions:
        deleted[deletion.path].append(deletion)
    paths = sorted(wanted.keys() | deleted.keys())
    batches = [paths[start : start + WRITE_BATCH] for start in range(0, len(paths), WRITE_BATCH)]
    # Threads start once, for every batch: one pool stages a batch while the other renames
    # the batch before (whose waits are the old files' blocks freed, milliseconds each on
    # some disks); a batch is flushed only once the one before is renamed and its folders
    # fsynced, so the steps a kill can land between stay those of one batch at a time.
    with ThreadPoolExecutor(_THREADS) as staging, ThreadPoolExecutor(_THREADS) as renaming:
        ahead: _Batch | None = None  # renaming
        batch: _Batch | None = None  # being staged
        try:
            for number, names in enumerate(batches):
                batch = _Batch(number, len(names))
                work = [(snapshots[p], wanted[p], deleted[p]) for p in names]
                _stage_batch(root, work, config, staging, batch)
                written = _finish(root, ahead, config, result) if ahead is not None else []
                flush([item.staged for item in batch.pending])
                fault_point(f"writeback:flushed:{number}")
                batch.renames = _submit_runs(renaming, partial(_rename, root, batch), batch.pending)
                if ahead is not None:  # while this batch is renamed
                    _record(written, result, parse_cache, config)
                    done(ahead.size)
                ahead, batch = batch, None
            if ahead is not None:
                _record(_finish(root, ahead, config, result), result, parse_cache, config)
                done(ahead.size)
                ahead = None
        except BaseException:  # Ctrl-C included: nothing more is started
            for pool in (staging, renaming):
                pool.shutdown(cancel_futures=True)  # (the with waits for those running)
            raise
        finally:  # every temp file left is removed (one renamed is gone already)
            for left in (ahead, batch):
                if left is not None:
                    wait(left.renames)  # run to their end or cancelled
                    for item in set(left.staged) - set(left.committed):
                        discard(item)
    return result


def _record(
    written: list[_Written],
    result: WriteBackResult,
    parse_cache: ParseCache | None,
    config: VaultConfig,
) -> None:
    """The files of a batch written: into `result`, and their new parses into the cache."""
    for snapshot, edits, data, as_read in written:
        path, digest = snapshot.path, content_digest(data)
        result.files_written.append(path)
        result.written.update((path, e.note_line) for e in edits if e.note_line is not None)
        if as_read:
            result.digests[path] = digest
        if parse_cache is not None:
            text = data.decode(snapshot.encoding)
            before = parse_cache.parsed(path, snapshot.digest) if as_read else None
            parsed = before and parse_with_ids(before, text, _id_lines(edits), config)
            parse_cache.put(path, digest, parsed or parse_file(text, path, config))


_Work = tuple[FileSnapshot, list[tuple[Note, int]], list[Deletion]]
_Written = tuple[FileSnapshot, list[_Edit], bytes, bool]  # ..., written from the bytes as read
# The file's bytes as read, its new bytes, the edits made, whether the bytes read are the
# snapshot's.
_Plan = tuple[bytes, bytes, list[_Edit], bool]


def _id_lines(edits: list[_Edit]) -> list[IdLine] | None:
    """The edits as the ID lines they insert; None when one does something else."""
    lines = [
        IdLine(e.start, e.text, e.note_line, e.note_id)
        for e in edits
        if e.start == e.end and e.note_line is not None and e.note_id is not None
    ]
    return lines if len(lines) == len(edits) else None


@dataclass
class _Pending:
    work: _Work
    raw: bytes  # the file as read, which must still be there at the rename
    data: bytes
    edits: list[_Edit]
    as_read: bool  # the bytes read are those of the snapshot
    staged: Staged


@dataclass
class _Batch:
    """One batch of files on its way: staged, flushed, renamed (in threads)."""

    number: int
    size: int  # files in it
    problems: list[Problem] = field(default_factory=list)  # in the order found
    pending: list[_Pending] = field(default_factory=list)  # staged, in file order
    staged: list[Staged] = field(default_factory=list)  # every temp file made
    committed: list[Staged] = field(default_factory=list)  # renamed: no temp file left
    renames: list[Future[list[Problem | bool]]] = field(default_factory=list)


def _stage_batch(
    root: Path, batch: list[_Work], config: VaultConfig, pool: ThreadPoolExecutor, into: _Batch
) -> None:
    """Every file of `batch` read, its edits made and its new bytes in a temp file beside it
    (in threads: the temp files' creation waits on the file system), into `into`."""
    planned: list[tuple[_Work, _Plan]] = []
    for work in batch:
        snapshot = work[0]
        found, plan = _new_bytes(root / snapshot.path, snapshot, work[1], work[2], config)
        into.problems.extend(found)
        if plan is not None:
            planned.append((work, plan))

    def prepare(job: tuple[_Work, _Plan]) -> _Pending | Problem:
        work, plan = job
        try:
            made = stage(root / work[0].path, plan[1])
        except OSError as exc:
            return Problem.at(work[0].path, 1, f"could not write IDs: {exc}")
        into.staged.append(made)  # from several threads: list.append is atomic
        return _Pending(work, *plan, made)

    for made in _gathered(_submit_runs(pool, prepare, planned)):
        if isinstance(made, Problem):
            into.problems.append(made)
        else:
            into.pending.append(made)
    fault_point(f"writeback:staged:{into.number}")


def _rename(root: Path, batch: _Batch, item: _Pending) -> Problem | bool:
    """Rename a flushed temp file over its target, if that is still as read. True:
    renamed; False: the file changed since it was read."""
    try:
        with holding_regular(root / item.work[0].path) as now:
            if now != item.raw:
                return False
            commit(item.staged)
            batch.committed.append(item.staged)  # from several threads: atomic
    except OSError as exc:
        return Problem.at(item.work[0].path, 1, f"could not write IDs: {exc}")
    return True


def _finish(
    root: Path, batch: _Batch, config: VaultConfig, result: WriteBackResult
) -> list[_Written]:
    """A batch's renames awaited, its folders fsynced, its problems into `result`; a file
    changed between its read and its rename is done again on its own (`_write_file`). The
    files written, for `_record`."""
    outcomes = _gathered(batch.renames)
    for item in set(batch.staged) - set(batch.committed):
        discard(item)
    pending = batch.pending
    renamed = [item for item, outcome in zip(pending, outcomes, strict=True) if outcome is True]
    batch.problems.extend(outcome for outcome in outcomes if isinstance(outcome, Problem))
    fsync_folders(item.staged.target.parent for item in renamed)
    fault_point(f"writeback:renamed:{batch.number}")
    written = [(item.work[0], item.edits, item.data, item.as_read) for item in renamed]
    for item, outcome in zip(pending, outcomes, strict=True):
        if outcome is False:  # edited meanwhile: read it again, on its own
            found, edits, data = _write_file(root, *item.work, config)
            batch.problems.extend(found)
            if data is not None:
                written.append((item.work[0], edits, data, False))
    result.problems.extend(batch.problems)
    return written


def _submit_runs(
    pool: ThreadPoolExecutor, function: Callable[[_T], _R], items: list[_T]
) -> list[Future[list[_R]]]:
    """`function` of each item, the items split in one run of them per thread (a task per
    item would cost more in handing over than the call itself); `_gathered` collects them."""
    size = -(-len(items) // _THREADS) or 1
    runs = [items[i : i + size] for i in range(0, len(items), size)]
    return [pool.submit(lambda run: [function(i) for i in run], run) for run in runs]


def _gathered(futures: list[Future[list[_R]]]) -> list[_R]:
    """The outcomes of `_submit_runs`, in the items' order."""
    return [out for future in futures for out in future.result()]


def _write_file(
    root: Path,
    snapshot: FileSnapshot,
    wanted: list[tuple[Note, int]],
    deletions: list[Deletion],
    config: VaultConfig,
) -> tuple[list[Problem], list[_Edit], bytes | None]:
    """One file on its own, read again while it keeps changing under us: problems, the
    edits made, and the file's new bytes (None: not written, and then no ID went in)."""
    target = root / snapshot.path
    for _ in range(_MAX_ATTEMPTS):
        problems, plan = _new_bytes(target, snapshot, wanted, deletions, config)
        if plan is None:
            return problems, [], None
        raw, data, edits, _ = plan
        try:
            replaced = _atomic_replace(target, data, raw)
        except OSError as exc:
            return (
                problems + [Problem.at(snapshot.path, 1, f"could not write IDs: {exc}")],
                [],
                None,
            )
        if replaced:
            return problems, edits, data
    return (
        [Problem.at(snapshot.path, 1, "file keeps changing; IDs not written, run again")],
        [],
        None,
    )


def _new_bytes(
    target: Path,
    snapshot: FileSnapshot,
    wanted: list[tuple[Note, int]],
    deletions: list[Deletion],
    config: VaultConfig,
) -> tuple[list[Problem], _Plan | None]:
    """The file read now and its edits applied: problems, and its `_Plan`, or None when
    there is nothing to write (read-only, unreadable, or no edit left)."""
    # Read first: the mode comes with the bytes (one stat of the file by name fewer).
    read_only = "the file is read-only: its new IDs and DELETE lines were not written"
    try:
        raw, mode = read_regular_and_mode(target)
    except OSError as exc:
        message = read_only if is_read_only(target) else f"could not re-read the file: {exc}"
        return [Problem.at(snapshot.path, 1, message)], None
    if is_read_only(target, mode):
        return [Problem.at(snapshot.path, 1, read_only)], None
    try:
        text = raw.decode(snapshot.encoding)
    except UnicodeDecodeError as exc:
        return [Problem.at(snapshot.path, 1, f"could not re-read the file: {exc}")], None
    as_read = content_digest(raw) == snapshot.digest
    if as_read:
        edits, problems = _edits_as_read(text, snapshot, wanted, deletions)
    else:
        edits, problems = _edits_after_change(text, snapshot, wanted, deletions, config)
    if not edits:
        return problems, None
    data = _apply_edits(text, edits).encode(snapshot.encoding)
    return problems, (raw, data, edits, as_read)


def _apply_edits(text: str, edits: Iterable[_Edit]) -> str:
    """Apply non-overlapping edits, last first so earlier offsets stay valid."""
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _edits_as_read(
    text: str,
    snapshot: FileSnapshot,
    wanted: list[tuple[Note, int]],
    deletions: list[Deletion],
) -> tuple[list[_Edit], list[Problem]]:
    """The file is as parsed: the notes' own slots and the deletions' offsets hold."""
    edits = [_Edit(d.start_offset, d.end_offset, "") for d in deletions]
    problems = []
    # The lines only to find an old ID to replace (an empty slot knows its offset).
    lines = SourceText(text).lines if any(n.id_slot is None for n, _ in wanted) else []
    for note, new_id in wanted:
        edit = _id_edit(lines, note, new_id)
        if edit is None:
            problems.append(
                Problem.at(
                    snapshot.path,
                    note.start_line,
                    "no place for its ID in the note; ID not written",
                )
            )
            continue
        edits.append(edit)
    return edits, problems


def _edits_after_change(
    text: str,
    snapshot: FileSnapshot,
    wanted: list[tuple[Note, int]],
    deletions: list[Deletion],
    config: VaultConfig,
) -> tuple[list[_Edit], list[Problem]]:
    """The user edited the file since it was read: find each note again by its content."""
    current = parse_file(text, snapshot.path, config)
    free = [n for n in current.notes if n.note_id is None and n.id_slot is not None]
    lines = SourceText(text).lines
    edits: list[_Edit] = []
    problems: list[Problem] = []
    for note, new_id in wanted:
        if note.note_id is not None:  # an ID replaced: find it by ID
            match = next((n for n in current.notes if n.note_id == note.note_id), None)
            edit = _id_edit(lines, match, new_id) if match is not None else None
            if edit is not None:
                edits.append(replace(edit, note_line=note.start_line))
                continue
        match = _relocate(note, free)
        if match is None:
            problems.append(
                Problem.at(
                    snapshot.path,
                    note.start_line,
                    "note changed on disk since it was read; ID not written, run again",
                )
            )
            continue
        free.remove(match)
        slot = match.id_slot
        assert slot is not None  # filtered above
        edits.append(
            _Edit(slot.offset, slot.offset, slot.text.format(id=new_id), note.start_line, new_id)
        )
    current_deletions = {d.note_id: d for d in current.deletions}
    for deletion in deletions:
        found = current_deletions.get(deletion.note_id)
        if found is not None:
            edits.append(_Edit(found.start_offset, found.end_offset, ""))
    return edits, problems


def _id_edit(lines: Sequence[Line], note: Note, new_id: int) -> _Edit | None:
    """Put `new_id` into the note: in its empty ID slot, or over its old ID (sync gives a
    note that was deleted in Anki a new ID when it recreates it). `lines`: the file's, as
    the parser numbers them (on `\\n` only)."""
    if note.id_slot is not None:
        slot = note.id_slot
        return _Edit(slot.offset, slot.offset, slot.text.format(id=new_id), note.start_line, new_id)
    if note.note_id is None or note.id_line is None or note.id_line > len(lines):
        return None
    line = lines[note.id_line - 1]
    old = str(note.note_id)
    at = line.text.rfind(old)
    if at < 0:
        return None
    return _Edit(line.start + at, line.start + at + len(old), str(new_id), note.start_line, new_id)


def _relocate(note: Note, candidates: list[Note]) -> Note | None:
    """The candidate with the same note type and field text, nearest the old line."""
    same = [c for c in candidates if c.note_type == note.note_type and c.fields == note.fields]
    return min(same, key=lambda c: abs(c.start_line - note.start_line), default=None)


class _ChangedMeanwhile(Exception):
    """The file changed between our read and our rename: read it again."""


def _atomic_replace(target: Path, data: bytes, expected: bytes) -> bool:
    """Replace `target` with `data` (mode kept) unless it no longer holds `expected`."""
    try:
        with replacing(target) as tmp:
            tmp.write_bytes(data)
            if read_regular(target) != expected:  # edited while we were writing
                raise _ChangedMeanwhile
    except _ChangedMeanwhile:
        return False
    return True
