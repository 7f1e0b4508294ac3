"""`notecards sync`: make Anki match the vault through AnkiConnect, safely and in few requests.

Order of work, chosen so that a sync killed at any moment and run again duplicates nothing:
1. read the vault and the state; render only the notes whose source changed since last push,
   or whose links or embeds now name other files;
2. one request learns what Anki holds (`multi`: version, decks, which known ids Anki still
   has, notesInfo of the rendered notes only, pending adds, where its media folder is); notes
   Anki lost are rendered;
3. recover an interrupted run (recovery.py); plan the whole change (`plan.make_plan`);
4. journal the adds in the state, then add each note with the vault's one pending tag
   `notecards::pending::<vault key>` (a re-run matches the notes it finds under it to blocks by
   their fields, so it needs neither the state nor a tag per note): with Anki on this machine
   by importing one package under IDs chosen here (importer.py), else through `addNotes`;
5. update, move, delete; write the new IDs into the files (atomic, see writeback.py); only then
   remove the pending tag (one `removeTags`) and save the state.
The journal, the recovery and the test-only fault hook live in recovery.py; the requests that
carry out each kind of change, in push.py.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from notecards import push
from notecards.media import VaultIndex
from notecards.model import MediaRef, Note, NotecardsError, Problem, Severity
from notecards.output import Reporter
from notecards.plan import (
    Plan,
    Target,
    make_plan,
    needs_deck_check,
    needs_render,
    plan_media,
    pushed_record,
    source_hash,
)
from notecards.recovery import PENDING_TAG, fault_point, pending_tag, recover
from notecards.render import Renderer, render_code_digest
from notecards.state import PushedMedia, PushedNote, SyncState, load_state, save_state
from notecards.targets.ankiconnect import (
    AnkiConnect,
    AnkiNote,
    is_loopback,
    parse_notes_info,
)
from notecards.vault import Vault, load_vault
from notecards.writeback import write_back


@dataclass
class SyncReport:
    plan: Plan
    applied: bool = False
    recovered: list[str] = field(default_factory=list)  # "path:line: note N" lines
    written_ids: list[tuple[str, int, int]] = field(default_factory=list)  # path, line, id
    files_written: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # refusals, write-back trouble
    requests: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def to_json(self) -> dict[str, Any]:
        document = self.plan.to_json()
        document["problems"] = [p.format() for p in self.plan.problems + self.problems]
        document.update(
            applied=self.applied,
            recovered=self.recovered,
            ids_written=[{"where": f"{p}:{ln}", "id": i} for p, ln, i in self.written_ids],
            files_written=self.files_written,
            requests=self.requests,
        )
        return document


def sync_vault(
    root: Path,
    client: AnkiConnect,
    *,
    dry_run: bool = False,
    force: bool = False,
    prune: bool = False,
    reporter: Reporter | None = None,
) -> SyncReport:
    """Plan, and unless `dry_run` apply, the changes that make Anki match the vault at `root`.

    Raises NotecardsError for a vault with errors (nothing sent), AnkiConnectError when Anki
    cannot be reached or refuses a request.
    """
    reporter = reporter or Reporter(quiet=True)
    start = client.requests_sent
    recovered: list[str] = []
    vault = _load(root)
    # One for the whole run: the vault is scanned once, on the first link or embed.
    renderer = Renderer(vault.config, vault.root)
    state, targets, snapshot = _read(vault, renderer, client, reporter, force)
    if snapshot.pending and not dry_run:
        recovered = recover(
            client, vault, renderer, state, targets, snapshot.pending, snapshot.present, reporter
        )
        vault = _load(root)  # IDs written into files (no file added or removed: same scan)
        state, targets, snapshot = _read(vault, renderer, client, reporter, force)
    saved = (dict(state.notes), dict(state.media), state.pending_tag, state.vault_files)
    report = SyncReport(plan=Plan(), recovered=recovered)
    # Unchanged in the vault but gone from Anki: recreated, so rendered after all.
    lost = [
        t
        for t in targets
        if t.fields is None
        and t.note.note_id not in snapshot.present
        and (dry_run or t.note.note_id is not None)  # a dry run shows new blocks' errors too
    ]
    _render(renderer, lost)
    card_decks = client.card_decks(
        [
            card
            for t in targets
            if t.note.note_id in snapshot.notes and needs_deck_check(t.note, state)
            for card in snapshot.notes[t.note.note_id].cards
        ]
    )
    media = _media_files(vault, targets, state, client, report)
    report.plan = make_plan(
        targets,
        snapshot.notes,
        card_decks,
        snapshot.decks,
        state,
        vault.parsed.deletions,
        media.hashes,
        prune=prune,
        force=force,
        restore_ids=snapshot.shares_files,  # by importing a package
        present=snapshot.present,
    )
    if snapshot.pending and dry_run:
        report.problems.append(
            Problem(
                ".notecards",
                1,
                f"{len(snapshot.pending)} note(s) from an interrupted sync are recovered "
                "when you sync without --dry-run",
                Severity.WARNING,
            )
        )
    if not dry_run:
        _apply(client, vault, renderer, state, snapshot, media, report, reporter)
        _remember_files(state, vault, renderer.index, report.plan)
        vault.save_cache()
        if (state.notes, state.media, state.pending_tag, state.vault_files) != saved:
            save_state(vault.root, state)
    report.requests = client.requests_sent - start
    return report


# -- reading ---------------------------------------------------------------------------------


def _read(
    vault: Vault, renderer: Renderer, client: AnkiConnect, reporter: Reporter, force: bool
) -> tuple[SyncState, list[Target], _AnkiSnapshot]:
    state = load_state(vault.root, client.url)
    targets = _targets(vault, renderer, state, reporter, force)
    return state, targets, _read_anki(client, vault, state, targets)


def _load(root: Path) -> Vault:
    vault = load_vault(root)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    return vault


def fingerprint(vault: Vault) -> str:
    """Everything besides a note's own text that its rendering depends on."""
    settings = dataclasses.replace(vault.config, ankiconnect_url="", ankiconnect_api_key="")
    return hashlib.sha256(f"{render_code_digest()}\n{settings!r}".encode()).hexdigest()


def _targets(
    vault: Vault, renderer: Renderer, state: SyncState, reporter: Reporter, force: bool
) -> list[Target]:
    """Each note with what Anki should hold; only notes changed since the last push render
    (their source, or a file one of their links or embeds names)."""
    config_print = fingerprint(vault)
    links = _LinkCheck(renderer, state)
    targets, changed = [], []
    for note in vault.parsed.notes:
        digest = source_hash(note, config_print)
        if note.note_id is None:
            targets.append(Target(note, digest, None))  # rendered while the adds are sent
        elif needs_render(note, digest, state, links.hold, force):
            targets.append(Target(note, digest, None))
            changed.append(targets[-1])
        else:
            pushed = state.notes[note.note_id]  # type: ignore[index]
            media = tuple(MediaRef(source, name) for source, name in pushed.media)
            targets.append(Target(note, digest, None, media))
    _render(renderer, changed, reporter)
    return targets


class _LinkCheck:
    """Whether the links and embeds of a note pushed earlier still name the files they named.

    What they resolve to depends only on the vault's file list and the note's folder, so with
    the very files the state's records were checked under and the note where it was, they
    hold without a look; otherwise each is resolved again against today's files."""

    def __init__(self, renderer: Renderer, state: SyncState):
        self._renderer = renderer
        self._checked_under = state.vault_files

    @cached_property
    def _same_files(self) -> bool:
        return self._checked_under == files_digest(self._renderer.index)

    def hold(self, pushed: PushedNote, path: str) -> bool:
        if not pushed.deps or (pushed.path == path and self._same_files):
            return True
        return self._renderer.still_resolves(json.loads(pushed.deps), path)


def files_digest(index: VaultIndex) -> str:
    """The vault's file list (and its symlinks that lead outside), which decides every link."""
    listing = "\n".join(sorted(index.files)) + "\0" + "\n".join(sorted(index.outside))
    return hashlib.blake2b(listing.encode(), digest_size=16).hexdigest()


def _remember_files(state: SyncState, vault: Vault, index: VaultIndex, plan: Plan) -> None:
    """Record the file list under which every record's deps now hold: those of the vault's
    notes were checked or rendered against it. Not while a conflict keeps an old record (it
    must be looked at again, and reported again); a record whose block is gone was not checked,
    so its deps become unknown (were the block pasted back, it renders)."""
    files = files_digest(index)
    if plan.conflicts or files == state.vault_files:
        return
    gone = plan.pushed.keys() - {n.note_id for n in vault.parsed.notes}  # kept for --prune
    for note_id in gone:
        if state.notes[note_id].deps:
            state.notes[note_id] = dataclasses.replace(state.notes[note_id], deps=None)
    state.vault_files = files


def _render(
    renderer: Renderer, targets: Sequence[Target], reporter: Reporter | None = None
) -> None:
    """Fill in each target's fields and media; every note's errors in one NotecardsError."""
    problems = []
    for target in reporter.progress(targets, "rendering") if reporter else targets:
        problems += push.render_into(renderer, target)
    if problems:
        raise NotecardsError(problems)


@dataclass
class _AnkiSnapshot:
    notes: dict[int, AnkiNote]  # what Anki holds for the rendered notes
    present: set[int]  # which of the ids the vault and the state name Anki has
    decks: dict[str, int]  # name -> id
    pending: list[int]
    shares_files: bool  # Anki can open a package file of ours


def _read_anki(
    client: AnkiConnect, vault: Vault, state: SyncState, targets: Sequence[Target]
) -> _AnkiSnapshot:
    """One request: version, decks, which known notes Anki still has, what it holds for the
    rendered ones (only those can differ from the last push), pending adds, its media folder.

    Presence comes from `findNotes nid:...` (ids only), so a sync with nothing changed
    fetches no note contents at all."""
    known = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    known |= {d.note_id for d in vault.parsed.deletions} | set(state.notes)
    rendered = sorted(
        {t.note.note_id for t in targets if t.fields is not None and t.note.note_id is not None}
    )
    actions = [
        ("version", {}),
        ("deckNamesAndIds", {}),
        ("findNotes", {"query": f"tag:{PENDING_TAG}*"}),
        ("findNotes", {"query": "nid:" + ",".join(map(str, sorted(known)))}),
        ("notesInfo", {"notes": rendered}),
    ]
    if not known:
        actions = actions[:3]  # an empty `nid:` is a search error; nothing to look up
    # An add-on without getMediaDirPath answers an error for it: then Anki cannot share files.
    actions.append(("getMediaDirPath", {}))
    *answers, (media_dir, _) = client.multi_or_raise(actions, may_fail=("getMediaDirPath",))
    client.check_version(answers[0][0])
    present = set(answers[3][0]) if known else set()
    notes = parse_notes_info(answers[4][0]) if known else {}
    # Anki can open our files when it runs here and sees this file system (not in WSL, or in
    # a container).
    shares_files = (
        is_loopback(client.url) and isinstance(media_dir, str) and Path(media_dir).is_dir()
    )
    return _AnkiSnapshot(notes, present, answers[1][0], answers[2][0], shares_files)


@dataclass
class _Media:
    hashes: dict[str, str]  # Anki name -> sha256 of the vault file it comes from
    read: dict[str, push.LocalMedia]  # the files read to hash them, by Anki name


def _media_files(
    vault: Vault, targets: Sequence[Target], state: SyncState, client: AnkiConnect, report
) -> _Media:
    """sha256 of each embedded file: the state's, if the file has the source, size and mtime
    it had when stored (so a no-op sync reads no media), else hashed from its bytes, which
    are kept for the upload; names the state does not know are compared with Anki's copy."""
    media = _Media({}, {})
    inside = vault.root.resolve()
    for target in targets:
        for ref in target.media:
            if ref.anki_name in media.hashes:
                continue
            path = (vault.root / ref.source).resolve()
            try:
                if not path.is_relative_to(inside):
                    raise FileNotFoundError(path)
                info = path.stat()
                if not stat.S_ISREG(info.st_mode):
                    raise FileNotFoundError(path)
                now = (ref.source, info.st_size, info.st_mtime_ns)
                known = state.media.get(ref.anki_name)
                if known is not None and (known.source, known.size, known.mtime_ns) == now:
                    media.hashes[ref.anki_name] = known.sha256
                    continue
                data = path.read_bytes()
            except OSError:
                report.problems.append(
                    Problem(
                        target.note.path, target.note.start_line, f"media not found: {ref.source}"
                    )
                )
                continue
            record = PushedMedia(hashlib.sha256(data).hexdigest(), *now)
            media.hashes[ref.anki_name] = record.sha256
            if known is not None and known.sha256 == record.sha256:
                state.media[ref.anki_name] = record  # touched or moved, not changed: re-stat only
            else:
                media.read[ref.anki_name] = push.LocalMedia(record, data)
    unknown = sorted(name for name in media.read if name not in state.media)
    answers = client.multi([("retrieveMediaFile", {"filename": n}) for n in unknown])
    for name, (data, _) in zip(unknown, answers, strict=True):
        if isinstance(data, str) and _sha256_b64(data) == media.hashes[name]:
            state.media[name] = media.read.pop(name).record  # Anki already has this very file
    return media


def _sha256_b64(data: str) -> str:
    return hashlib.sha256(base64.b64decode(data)).hexdigest()


# -- applying --------------------------------------------------------------------------------


def _apply(
    client: AnkiConnect,
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    snapshot: _AnkiSnapshot,
    media: _Media,
    report: SyncReport,
    reporter: Reporter,
) -> None:
    """Apply the plan; the caller saves the state if it changed."""
    plan = report.plan
    tag = pending_tag(vault.root)
    journal = [a for a in plan.adds if not a.restore]
    if journal:
        state.pending_tag = tag
        save_state(vault.root, state)
    fault_point("journaled")

    deck_ids = {name.casefold(): deck_id for name, deck_id in snapshot.decks.items()}
    deck_ids.update(push.create_decks(client, plan.decks, reporter))
    fault_point("decks_created")

    if plan.media:
        reporter.info(f"storing {len(plan.media)} media file(s)")
        push.store_media(client, plan.media, media.read, state, report.problems)
    fault_point("media_stored")

    imported, added = push.add(
        client, vault, renderer, journal, plan.restored, tag, report.problems, reporter,
        local=snapshot.shares_files,
    )  # fmt: skip
    _store_late_media(client, vault, [a.target for a in journal], state, report)
    fault_point("notes_added")
    present = push.fix_decks(client, added, imported, deck_ids, tag, report.problems)
    added = [(a, nid) for a, nid in added + imported.added if nid in present]
    restored = [(a, nid) for a, nid in imported.restored if nid in present]
    fault_point("decks_fixed")

    push.update(client, plan, report.problems, reporter)
    fault_point("updated")

    deleted = push.delete(client, plan, report.problems)
    fault_point("deleted")

    written = _write_ids(vault, plan, added, deleted, report)
    fault_point("ids_written")

    # Only a note whose ID is in its file loses the pending tag; the others stay journaled,
    # and the next run recovers them.
    cleared = [(a, nid) for a, nid in added if _key(a.target.note) in written]
    cleared_ids = [nid for _, nid in cleared]
    actions = [("removeTags", {"notes": cleared_ids, "tags": tag})] if cleared_ids else []
    report.problems += [push.problem_at(None, e) for e in push.run(client, actions, "removeTags")]
    fault_point("pending_cleared")

    state.notes = dict(plan.pushed)
    for a, nid in added + restored:
        state.notes[nid] = pushed_record(a.target)
    for d in plan.deletes if deleted else ():
        state.notes.pop(d.note_id, None)
    if journal and len(cleared) == len(journal):
        state.pending_tag = ""  # every journaled add is in Anki with its ID in the vault
    report.applied = True


def _key(note: Note) -> tuple[str, int]:
    return (note.path, note.start_line)


def _write_ids(
    vault: Vault, plan: Plan, added, deleted: bool, report: SyncReport
) -> set[tuple[str, int]]:
    """New IDs into their blocks, and DELETE lines out (only once Anki deleted the notes);
    the blocks (path, start line) whose ID is now in their file."""
    ids_at = {_key(a.target.note): nid for a, nid in added}
    planned = {d.note_id for d in plan.deletes}
    deletions = [d for d in vault.parsed.deletions if deleted or d.note_id not in planned]
    if not ids_at and not deletions:
        return set()
    result = write_back(
        vault.root,
        vault.parsed.files,
        ids_at,
        deletions,
        config=vault.config,
        notes=vault.parsed.notes,
        parse_cache=vault.parse_cache,
    )
    report.files_written = result.files_written
    report.problems.extend(result.problems)
    report.written_ids = [(p, ln, i) for (p, ln), i in ids_at.items() if (p, ln) in result.written]
    return result.written


def _store_late_media(
    client: AnkiConnect,
    vault: Vault,
    targets: Sequence[Target],
    state: SyncState,
    report: SyncReport,
) -> None:
    """The files that new blocks, rendered while adding, embed (a crash before this is
    harmless: the recovered notes have no record yet, so the next sync plans their media)."""
    rendered = [t for t in targets if t.note.note_id is None and t.fields is not None]
    media = _media_files(vault, rendered, state, client, report)
    planned = {m.anki_name for m in report.plan.media}
    late = [m for m in plan_media(rendered, state, media.hashes) if m.anki_name not in planned]
    if late:
        push.store_media(client, late, media.read, state, report.problems)
        report.plan.media += late
