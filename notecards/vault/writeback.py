"""Write new IDs into the user's markdown files (and drop DELETE line pairs), safely.

A user's file is the one thing notecards must never damage, so every write is atomic
(temp file beside it, flushed, renamed, the folder fsynced), keeps the file's encoding, line
endings, trailing newline and mode, and changes nothing but the inserted/removed lines.
Files are written in batches (`atomic.stage`, one `flush`, then the renames): a vault of
20,000 new cards pays one flush of the file system, not two fsyncs per file. A batch holds
files up to WRITE_BATCH_BYTES, so nearly every vault is one: each of its temp files is made
before a rename frees any old file, because on some file systems (ext4 without a journal)
every create steps over each inode freed near it in the last minutes, and staging a batch
after the renames of the one before made the write-back of 20,000 files quadratic.
A file the user edited after it was read is re-parsed and each note re-located by its
content, so the user's edit survives and the ID still lands on the right block.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from queue import Queue
from threading import Thread

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
# A batch's files, their bytes as read and as written, held in memory at most (its temp
# files are what a kill can leave: the next run removes them).
WRITE_BATCH_BYTES = 64 << 20
# `NOTECARDS_WRITE_BATCH=<n>`: at most n files a batch (the kill tests' batches, from a small
# vault).
BATCH_ENV = "NOTECARDS_WRITE_BATCH"
# The temp files are made, and renamed, one at a time in this thread (creates and renames in
# one folder wait for its lock: threads would only spin on it); the close after each
# rename, which frees the old file's blocks and waits on the disk (a synchronous discard
# each, on some), on _CLOSING_THREADS more, in runs of _CLOSING_RUN, at most _CLOSING_AHEAD
# runs waiting. The files renamed are recorded (new parses) only after: Python code running
# beside the renames makes each of their system calls wait for the interpreter's lock.
_CLOSING_THREADS = 4
_CLOSING_RUN = 32
_CLOSING_AHEAD = 4
_PROGRESS_STEP = 250  # files renamed


@dataclass
class WriteBackResult:
    files_written: list[str] = field(default_factory=list)
    # The (path, start_line) keys, as passed in, whose ID is now in the file.
    written: set[tuple[str, int]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    # The new digest of each file written from the very bytes its snapshot was taken of
    # (not one the user changed meanwhile): what a build records as its inputs.
    digests: dict[str, str] = field(default_factory=dict)
    # Each file written, its new parse not made: for `cache_parses` (a sync makes them
    # while Anki works on its last request).
    unparsed: list[WrittenFile] = field(default_factory=list)


@dataclass(frozen=True)
class WrittenFile:
    """A file written: what its new parse is made from (`cache_parses`)."""

    snapshot: FileSnapshot  # as it was read
    edits: list[_Edit]
    data: bytes  # as written
    as_read: bool  # written from the very bytes of `snapshot`

    @cached_property
    def digest(self) -> str:
        return content_digest(self.data)


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
    texts: Mapping[str, str] | None = None,
    done: Callable[[int], None] = lambda files: None,
) -> WriteBackResult:
    """Insert `ids` ((path, start_line) -> new id) and remove `deletions`, file by file.

    `notes` are the notes the keys name, as parsed from the snapshots: a note is
    re-located by its content in a file the user changed since it was read. The result
    holds each file written, for `cache_parses` (so the next run does not parse again every
    file that just got an ID). `texts`:
    files as their snapshots hold them, which the caller read and found writable (a build):
    not read again before their edits (each rename still finds a change since). `done`
    hears how many files are done (a progress bar).
    """
    texts = texts or {}
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
    most = int(os.environ.get(BATCH_ENV) or 0) or len(paths)
    batch = _Batch(0)
    try:
        for path in paths:
            work = (snapshots[path], wanted[path], deleted[path])
            _stage(root, work, config, texts.get(path), batch)
            if batch.size >= most or batch.held >= WRITE_BATCH_BYTES:
                _write_batch(root, batch, config, result, done)
                batch = _Batch(batch.number + 1)
        if batch.size:
            _write_batch(root, batch, config, result, done)
    finally:  # Ctrl-C included: every temp file left is removed (one renamed is gone)
        for item in set(batch.staged) - set(batch.committed):
            discard(item)
    return result


def _record(written: list[WrittenFile], result: WriteBackResult) -> None:
    """The files of a batch written, into `result`."""
    for one in written:
        path, digest = one.snapshot.path, one.digest
        result.files_written.append(path)
        result.written.update((path, e.note_line) for e in one.edits if e.note_line is not None)
        if one.as_read:
            result.digests[path] = digest
    result.unparsed += written


def cache_parses(
    written: Iterable[WrittenFile], parse_cache: ParseCache, config: VaultConfig
) -> None:
    """Each file written, with its parse, into `parse_cache` (derived from the parse before
    where that is sure: vault/written_parse.py), so the next run does not parse again every
    file that just got an ID."""
    for one in written:
        snapshot = one.snapshot
        text = one.data.decode(snapshot.encoding)
        before = parse_cache.parsed(snapshot.path, snapshot.digest) if one.as_read else None
        parsed = before and parse_with_ids(before, text, _id_lines(one.edits), config)
        parse_cache.put(
            snapshot.path, one.digest, parsed or parse_file(text, snapshot.path, config)
        )


_Work = tuple[FileSnapshot, list[tuple[Note, int]], list[Deletion]]
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
    """One batch of files on its way: staged, flushed, renamed."""

    number: int
    size: int = 0  # files in it
    held: int = 0  # bytes of its files, as read and as written
    problems: list[Problem] = field(default_factory=list)  # in the order found
    pending: list[_Pending] = field(default_factory=list)  # staged, in file order
    staged: list[Staged] = field(default_factory=list)  # every temp file made
    committed: list[Staged] = field(default_factory=list)  # renamed: no temp file left


def _stage(root: Path, work: _Work, config: VaultConfig, text: str | None, into: _Batch) -> None:
    """A file read (unless `text` is what its snapshot holds), its edits made and its new
    bytes in a temp file beside it, into `into`."""
    snapshot = work[0]
    into.size += 1
    found, plan = _new_bytes(root / snapshot.path, snapshot, work[1], work[2], config, text)
    into.problems.extend(found)
    if plan is None:
        return
    try:
        made = stage(root / snapshot.path, plan[1])
    except OSError as exc:
        into.problems.append(Problem.at(snapshot.path, 1, f"could not write IDs: {exc}"))
        return
    into.staged.append(made)
    into.pending.append(_Pending(work, *plan, made))
    into.held += len(plan[0]) + len(plan[1])


def _write_batch(
    root: Path,
    batch: _Batch,
    config: VaultConfig,
    result: WriteBackResult,
    done: Callable[[int], None],
) -> None:
    """A staged batch flushed, its files renamed, its folders fsynced, the files renamed
    recorded, its problems into the result; a file changed between its read and its rename
    is done again on its own (`_write_file`)."""
    fault_point(f"writeback:staged:{batch.number}")
    flush(batch.staged)
    fault_point(f"writeback:flushed:{batch.number}")
    pending = batch.pending
    outcomes: list[Problem | bool] = []
    with _Closing(_CLOSING_THREADS, _CLOSING_RUN, _CLOSING_AHEAD) as closing:
        for item in pending:
            outcomes.append(_rename(root, batch, item, closing))
            if len(outcomes) % _PROGRESS_STEP == 0:
                done(_PROGRESS_STEP)
    told = len(outcomes) - len(outcomes) % _PROGRESS_STEP  # files the bar has heard of
    batch.problems.extend(outcome for outcome in outcomes if isinstance(outcome, Problem))
    for item in set(batch.staged) - set(batch.committed):
        discard(item)
    fsync_folders(item.target.parent for item in batch.committed)
    fault_point(f"writeback:renamed:{batch.number}")
    renamed = [item for item, outcome in zip(pending, outcomes, strict=True) if outcome is True]
    written = [WrittenFile(i.work[0], i.edits, i.data, i.as_read) for i in renamed]
    _record(written, result)
    again = [item for item, outcome in zip(pending, outcomes, strict=True) if outcome is False]
    for item in again:  # edited meanwhile: read it again, on its own
        found, edits, data = _write_file(root, *item.work, config)
        batch.problems.extend(found)
        if data is not None:
            _record([WrittenFile(item.work[0], edits, data, False)], result)
    result.problems.extend(batch.problems)
    done(batch.size - told)


def _rename(root: Path, batch: _Batch, item: _Pending, closing: _Closing) -> Problem | bool:
    """Rename a flushed temp file over its target, if that is still as read (the old file
    closed by `closing`). True: renamed; False: the file changed since it was read."""
    try:
        with holding_regular(root / item.work[0].path, closing.close) as now:
            if now != item.raw:
                return False
            commit(item.staged)
            batch.committed.append(item.staged)
    except OSError as exc:
        return Problem.at(item.work[0].path, 1, f"could not write IDs: {exc}")
    return True


class _Closing:
    """File descriptors closed on threads of their own, in runs of `run` (a run of numbers
    with none missing in one call that lets go of the interpreter's lock once: a close each
    would make every one of them wait for it, and the renames too), at most `ahead` runs
    waiting (a close blocks until one is free); all closed when the block ends."""

    def __init__(self, threads: int, run: int, ahead: int):
        self._run_size = run
        self._run: list[int] = []
        self._waiting: Queue[list[int] | None] = Queue(ahead)
        self._threads = [Thread(target=self._closer, daemon=True) for _ in range(threads)]

    def __enter__(self) -> _Closing:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._waiting.put(self._run)
        for _ in self._threads:
            self._waiting.put(None)
        for thread in self._threads:
            thread.join()

    def close(self, fd: int) -> None:
        self._run.append(fd)
        if len(self._run) >= self._run_size:
            self._waiting.put(self._run)
            self._run = []

    def _closer(self) -> None:
        while (run := self._waiting.get()) is not None:
            # Every number from the lowest to the highest is one of ours (open, and held by
            # no one else): the one call closes those and nothing else.
            if run and max(run) - min(run) == len(run) - 1 == len(set(run)) - 1:
                os.closerange(min(run), max(run) + 1)
                continue
            for fd in run:
                with suppress(OSError):  # (what an error here could mean is nothing to mend)
                    os.close(fd)


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
    text: str | None = None,
) -> tuple[list[Problem], _Plan | None]:
    """The file read now and its edits applied: problems, and its `_Plan`, or None when
    there is nothing to write (read-only, unreadable, or no edit left). `text`: the file as
    its snapshot has it, which the caller read and found writable: not read again (its
    rename still finds a change since)."""
    if text is None:
        problems, text, raw = _read_now(target, snapshot)
        if text is None:
            return problems, None
        as_read = content_digest(raw) == snapshot.digest
    else:
        raw, as_read = text.encode(snapshot.encoding), True
    if as_read:
        edits, problems = _edits_as_read(text, snapshot, wanted, deletions)
    else:
        edits, problems = _edits_after_change(text, snapshot, wanted, deletions, config)
    if not edits:
        return problems, None
    data = _apply_edits(text, edits).encode(snapshot.encoding)
    return problems, (raw, data, edits, as_read)


def _read_now(target: Path, snapshot: FileSnapshot) -> tuple[list[Problem], str | None, bytes]:
    """The file's text and bytes as they are now, or the problem (and None) when it cannot
    be read or written."""
    # Read first: the mode comes with the bytes (one stat of the file by name fewer).
    read_only = "the file is read-only: its new IDs and DELETE lines were not written"
    try:
        raw, mode = read_regular_and_mode(target)
    except OSError as exc:
        message = read_only if is_read_only(target) else f"could not re-read the file: {exc}"
        return [Problem.at(snapshot.path, 1, message)], None, b""
    if is_read_only(target, mode):
        return [Problem.at(snapshot.path, 1, read_only)], None, raw
    try:
        return [], raw.decode(snapshot.encoding), raw
    except UnicodeDecodeError as exc:
        return [Problem.at(snapshot.path, 1, f"could not re-read the file: {exc}")], None, raw


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
