"""`notecards sync`: make Anki match the vault through AnkiConnect, safely and in few requests.

Order of work, chosen so that a sync killed at any moment and run again duplicates nothing:
1. read the vault and the state; render only the notes whose source changed since last push,
   or whose links or embeds now name other files (read_vault.py); where only some files'
   bytes changed since a sync left nothing to do, read those alone (scope.py);
2. one request learns what Anki holds (read_anki.py); notes Anki lost are rendered;
3. recover an interrupted run (recovery.py); plan the whole change (plan.py, pure);
4. journal the adds in the state, then add each note with the vault's one pending tag
   `notecards::pending::<vault key>` (a re-run matches the notes it finds under it to blocks by
   their fields, so it needs neither the state nor a tag per note): with Anki on this machine
   by importing one package under IDs chosen here (importer.py), else through `addNotes`;
5. update, move, delete (push.py); write the new IDs into the files (atomically, see
   vault/writeback.py); only then remove the pending tag (one `removeTags`) and save the state.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from notecards.faults import fault_point
from notecards.hashing import field_digest, field_matches, settings_digest
from notecards.model import RenderedNote
from notecards.output import Reporter
from notecards.problems import NotecardsError, Problem, Severity, errors
from notecards.render import Renderer, check_note, note_problems
from notecards.render.cache import RenderCache
from notecards.render.compare import shows_the_same
from notecards.render.inputs import (
    Verdict,
    embeds_unread_text,
    last_verdict,
    notes_per_file,
    save_verdict,
)
from notecards.render.inputs import files_digest as inputs_digest
from notecards.sync import push
from notecards.sync.as_left import Looked
from notecards.sync.asking import AskingAnki
from notecards.sync.media import MediaFiles, media_files, store_media
from notecards.sync.notes import Rendered, SyncNote, Unrendered
from notecards.sync.options import SyncOptions
from notecards.sync.plan import Plan, make_plan, needs_deck_check, plan_media, pushed_record
from notecards.sync.pull_edits import apply_agreement, editor_rewrites, plan_pull
from notecards.sync.pushed_fields import PushedFields
from notecards.sync.read_anki import (
    AnkiSnapshot,
    differs,
    is_mod_time,
)
from notecards.sync.read_vault import files_digest, render_checked, source_digest, vault_notes
from notecards.sync.recovery import pending_tag, recover
from notecards.sync.report import SyncReport
from notecards.sync.scope import clashes, unread_records
from notecards.sync.state import (
    PushedNote,
    SyncState,
    load_state,
    mod_as_seen,
    save_state,
    state_snapshot,
)
from notecards.targets.ankiconnect import AnkiConnect, parse_notes_info, raise_refused
from notecards.vault import (
    Vault,
    VaultFiles,
    WriteBackResult,
    cache_parses,
    load_vault,
    write_back,
)
from notecards.vault.atomic import remove_stale_temp_files
from notecards.vault.field_writeback import write_fields
from notecards.vault.files import is_read_only
from notecards.vault.state_dir import STATE_DIR


def sync_leaving_out(
    root: Path,
    client: AnkiConnect,
    options: SyncOptions,
    reporter: Reporter,
    looked: Looked | None = None,
) -> SyncReport:
    """One whole sync (the caller holds the lock unless it is a dry run: entry.py); with
    `leave_out_bad_files`, the files an error names are left out and the
    sync runs again without them (a sync stopped by an error has sent nothing, or stopped
    where a crash could have: a run after it is safe), until no error remains outside them
    or an error names no file (the settings). `looked`: what the no-op check (as_left.py)
    read, not read again."""
    left_out: dict[str, list[Problem]] = {}
    while True:
        try:
            report = _sync(root, client, options, reporter, left_out.keys(), looked)
            looked = None  # (a run again reads the vault again, and a part of it)
        except NotecardsError as err:
            bad = errors(err.problems)
            paths = {p.path for p in bad}
            if not options.leave_out_bad_files or None in paths or paths <= left_out.keys():
                raise
            for problem in bad:
                left_out.setdefault(str(problem.path), []).append(problem)
            continue
        report.problems[:0] = [p for problems in left_out.values() for p in problems]
        # Their notes are not gone, only not read this time.
        report.plan.problems = [p for p in report.plan.problems if p.path not in left_out]
        return report


def _sync(
    root: Path,
    client: AnkiConnect,
    options: SyncOptions,
    reporter: Reporter,
    left_out: Collection[str] = (),
    looked: Looked | None = None,
) -> SyncReport:
    dry_run, force, prune = options.dry_run, options.force, options.prune
    whole = not left_out  # (every file read: `check`'s verdict can be left)
    start = client.requests_sent
    recovered: list[str] = []
    looked = looked or Looked()
    # Where only some files changed since a sync left nothing to do, those alone (scope.py):
    # the others' notes are their records, `unread`, and that sync's verdict tells of them.
    scope = looked.scope if looked.state is not None and not left_out else None
    vault, held_back = _load(root, reporter, left_out, looked.read, scope)
    unread = unread_records(looked.state, scope) if looked.state and scope is not None else {}
    if clashes(vault.parsed, unread):
        scope, unread = None, {}
        vault, held_back = _load(root, reporter, left_out, looked.read)
    verdict_before = looked.state.as_left if looked.state and scope is not None else ""
    if not dry_run:
        remove_stale_temp_files(
            {(vault.root / path).parent for path in vault.parsed.files} | {vault.root / STATE_DIR}
        )
    # One for the whole run: the vault is scanned once, on the first link or embed. Its cache
    # lives in memory for this run only: a pull renders a field to check it, then again as
    # the vault now reads (the sync state already spares unchanged notes any rendering).
    renderer = Renderer(vault.config, vault.root, RenderCache(None, read_only=True))
    state, items, warnings, snapshot = _read(vault, renderer, client, reporter, options, looked)
    if snapshot.pending and not dry_run and options.push:
        recovered, problems = recover(
            client, vault, renderer, state, items, snapshot.pending, snapshot.present, reporter
        )
        if problems:
            raise NotecardsError(problems)
        # IDs written into files (no file added or removed: same scan); every file read
        # (scope.py leaves a sync with pending adds whole)
        scope, unread = None, {}
        vault, held_back = _load(root, reporter, left_out)
        state, items, warnings, snapshot = _read(vault, renderer, client, reporter, options)
    saved = state_snapshot(state)
    report = SyncReport(plan=Plan(), recovered=recovered, problems=warnings)
    # Unchanged in the vault but gone from Anki: recreated, so rendered after all.
    items, lost_warnings = _render_lost(renderer, items, snapshot.present)
    report.problems += lost_warnings
    base = PushedFields(vault.root)
    unsettled = set(held_back)  # an edit made in Anki to a left-out note waits for its file
    pulled_files: dict[str, tuple[str, str]] = {}
    if options.two_way:
        items, pulling, pulled_files = _pull(
            client, vault, renderer, state, items, snapshot, base, options, report
        )
        unsettled |= pulling
    if not options.push:
        if not dry_run:
            _settle_pulled(state, items, snapshot, report)
            _remember_anki(state, [(snapshot.mods, snapshot.asked_at)], unsettled)
            state.warned = _warned(state, items, (), _rendered_problems(vault, items))
            if state_snapshot(state) != saved:
                save_state(vault.root, state)
            base.save()
        report.requests = client.requests_sent - start
        return report
    card_decks = client.card_decks(
        [
            card
            for item in items
            if item.note.note_id in snapshot.notes and needs_deck_check(item.note, state)
            for card in snapshot.notes[item.note.note_id].cards
        ]
    )
    rendered_problems = _rendered_problems(vault, items)  # (with those left out just below)
    every_item = items
    items, left_out = _leave_out_read_only(items, vault)
    report.problems += left_out
    media = media_files(vault, items, state, client)
    report.problems += media.problems
    report.plan = make_plan(
        items,
        snapshot.notes,
        card_decks,
        snapshot.decks,
        state,
        vault.parsed.deletions,
        media.digests,
        prune=prune,
        force=force,
        restore_ids=snapshot.shares_files,  # by importing a package
        present=snapshot.present,
        unread=unread,
    )
    if snapshot.pending and dry_run:
        message = (
            f"{len(snapshot.pending)} note(s) from an interrupted sync are recovered "
            "when you sync without --dry-run"
        )
        report.problems.append(Problem(message, severity=Severity.WARNING))
    if not dry_run:

        def meanwhile(taken: Sequence[tuple[Rendered, int]], written: WriteBackResult) -> None:
            """What needs nothing of Anki's last answer: the base of later merges, and the
            parses (of the files the IDs went into), saved while Anki works on that request."""
            if options.two_way:
                _remember_base(base, state, items, taken, report.plan)
                base.save()
            if vault.parse_cache is not None:
                cache_parses(written.unparsed, vault.parse_cache, vault.config)
            vault.save_cache()

        taken, mods, pushed_at = _apply(
            client, vault, renderer, state, snapshot, media, report, reporter, options.two_way,
            meanwhile=meanwhile,
        )  # fmt: skip
        if options.two_way:
            seen = [(snapshot.mods, snapshot.asked_at), (mods, pushed_at)]
            _remember_anki(state, seen, unsettled)
        _remember_files(state, vault, renderer, report.plan, unread)
        _as_pulled(vault, pulled_files)
        inputs = _inputs_as_left(vault, state, items)
        state.warned = _warned(state, items, taken, rendered_problems)
        nothing_left = _nothing_left(vault, state, taken, report, unsettled, unread)
        state.as_left = inputs if nothing_left else ""
        files = vault.parsed.files
        state.files = {p: files[p].digest for p in sorted(files)} if state.as_left else {}
        if inputs and whole:
            unread_verdict = _unread_verdict(vault, scope, verdict_before)
            if scope is None or unread_verdict is not None:
                _leave_verdict(
                    vault, renderer, state, every_item, rendered_problems, inputs, report,
                    unread_verdict,
                )  # fmt: skip
        if state_snapshot(state) != saved:
            save_state(vault.root, state)
    report.requests = client.requests_sent - start
    return report


def _read(
    vault: Vault,
    renderer: Renderer,
    client: AnkiConnect,
    reporter: Reporter,
    options: SyncOptions,
    looked: Looked | None = None,
) -> tuple[SyncState, list[SyncNote], list[Problem], AnkiSnapshot]:
    """The state, the vault's notes, and what Anki holds (asked while the notes render:
    asking.py); as the no-op check `looked` at them, when it did."""
    looked = looked or Looked()
    state = looked.state or load_state(vault.root, client.url)
    asking = AskingAnki(client, vault, state, options, looked)
    items, warnings = vault_notes(vault, renderer, state, reporter, options.force, asking.start)
    return state, items, warnings, asking.snapshot()


def _pull(
    client: AnkiConnect,
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    items: list[SyncNote],
    snapshot: AnkiSnapshot,
    base: PushedFields,
    options: SyncOptions,
    report: SyncReport,
) -> tuple[list[SyncNote], set[int], dict[str, tuple[str, str]]]:
    """Bring home the edits made in Anki since the last sync (pull_edits.py): read the notes
    Anki says changed, write their edits into the vault (unless a dry run). Gives the vault's
    notes as they now read, the pulled ones rendered, for the push to plan with, the notes
    whose edit made in Anki is not home yet, and each file written: its digest as read and
    as written (`_as_pulled`; "" where its bytes are not all known)."""
    edited = snapshot.edited_since(state)
    candidates = [
        index
        for index, item in enumerate(items)
        if item.note.note_id in edited and item.note.note_id in state.notes
    ]
    unread = [
        items[i].note.note_id for i in candidates if items[i].note.note_id not in snapshot.notes
    ]
    if unread:
        snapshot.notes.update(client.notes_info(unread))
    candidates = [
        i
        for i in candidates
        if items[i].note.note_id in snapshot.notes
        and differs(snapshot.notes[items[i].note.note_id], state.notes[items[i].note.note_id])
    ]
    rendered, problems = render_checked(renderer, [items[i] for i in candidates])
    report.problems += problems
    items = list(items)
    for index, item in zip(candidates, rendered, strict=True):
        items[index] = item
    every_rendered = [i for i in items if isinstance(i, Rendered)]
    apply_agreement(state, editor_rewrites(every_rendered, snapshot.notes, state, base))
    pull = plan_pull(vault, renderer, rendered, snapshot.notes, state, base, options.prefer)
    report.problems += pull.problems
    written = {(u.note.path, u.note.start_line) for u in pull.updates}
    fault_point("pull_planned")
    files: dict[str, tuple[str, str]] = {}
    if not options.dry_run and pull.updates:
        result = write_fields(
            vault.root,
            vault.parsed.files,
            pull.updates,
            config=vault.config,
            parse_cache=vault.parse_cache,
        )
        report.problems += result.problems
        report.files_written += result.files_written
        written = result.written
        files = {
            path: (vault.parsed.files[path].digest, result.digests.get(path, ""))
            for path in result.files_written
        }
        fault_point("pulled")
    done = {u.note.note_id for u in pull.updates if (u.note.path, u.note.start_line) in written}
    report.pulled = [p for p in pull.pulled if p.note_id in done]
    apply_agreement(
        state,
        {
            nid: fields
            for nid, fields in pull.agreed.items()
            if nid in done or nid not in pull.notes
        },
    )
    settings = settings_digest(vault.config.content_settings())
    for index, item in enumerate(items):
        note = pull.notes.get(item.note.note_id) if item.note.note_id in done else None
        if note is not None:
            as_read = Unrendered(note, source_digest(note, settings), item.media)
            items[index] = render_checked(renderer, [as_read])[0][0]
    not_written = {u.note.note_id for u in pull.updates} - done
    return items, pull.unsettled | {nid for nid in not_written if nid is not None}, files


def _as_pulled(vault: Vault, pulled: Mapping[str, tuple[str, str]]) -> None:
    """Each file the pull wrote, with the digest of the bytes it wrote (once nothing else
    writes): where those are the bytes read with the values pulled, at the lines parsed, the
    next sync is told nothing changed without parsing the vault. Only now: the ID write-back
    takes the bytes the snapshot's digest names for the offsets parsed (a file the pull
    wrote is read again, and its digest is then none)."""
    files = vault.parsed.files
    for path, (read, written) in pulled.items():
        if files[path].digest == read:
            files[path] = dataclasses.replace(files[path], digest=written)


# The steps of a two-way sync's pull where the crash tests stop it (before FAULT_STEPS).
PULL_FAULT_STEPS = ("pull_planned", "pulled")


def _after_push_asks(
    state: SyncState, plan: Plan, added: Sequence[int]
) -> tuple[list[int], list[tuple[str, dict]]]:
    """The notes the push changed or added, and what _after_push asks of them (sent beside
    the push's last action: Anki answers it once that one is done)."""
    updated = [u for u in plan.updates if u.fields]
    ids = sorted({u.note_id for u in updated} | set(added))
    if not ids:
        return ids, []
    actions: list[tuple[str, dict]] = [("notesInfo", {"notes": ids})]
    if state.mod_times:
        actions.append(("notesModTime", {"notes": ids}))
    return ids, actions


def _after_push(
    state: SyncState,
    report: SyncReport,
    ids: Sequence[int],
    actions: Sequence[tuple[str, dict]],
    answers: Sequence[tuple[object, str | None]],
) -> dict[int, int]:
    """Anki's `answers` to `actions` (_after_push_asks) after the push: what the notes it
    changed or added (`ids`) now hold, and their new modification times (where Anki has them).

    A field Anki holds otherwise than sent is one of two things. The text it held before the
    update: Anki's editor, open on the note, kept its own copy (AnkiConnect issue #82); that
    note is reported, and its record made to send the vault's version again next time.
    Anything else is how Anki stores what was sent (it drops some control characters, and
    composes Unicode): recorded as what was pushed, so that it never looks like an edit."""
    if not actions:
        return {}
    raise_refused(actions, answers, may_fail=("notesModTime",))
    updated = [u for u in report.plan.updates if u.fields]
    held = parse_notes_info(answers[0][0])
    kept_own = {u.note_id: u for u in updated}
    for nid in ids:
        record = state.notes.get(nid)
        if record is None or nid not in held:
            continue
        stored = {
            name: html
            for name, html in held[nid].fields.items()
            if name in record.fields and not field_matches(html, record.fields[name])
        }
        lost = [n for n, html in stored.items() if field_matches(html, record.replaced.get(n, ""))]
        if lost and nid in kept_own:
            state.notes[nid] = dataclasses.replace(record, source_digest="")
            report.problems.append(
                Problem(
                    f"note {nid}: Anki kept its own copy of {', '.join(lost)} (the note is"
                    " open in Anki's editor?); close it there, and the next sync sends it again",
                    kept_own[nid].where,
                    Severity.WARNING,
                )
            )
        elif stored:
            digests = {**record.fields, **{n: field_digest(h) for n, h in stored.items()}}
            state.notes[nid] = dataclasses.replace(record, fields=digests)
    if len(answers) < 2 or answers[1][1] is not None:
        return {}
    return {t["noteId"]: t["mod"] for t in answers[1][0] if is_mod_time(t)}


def _remember_anki(
    state: SyncState,
    seen: Sequence[tuple[dict[int, int] | None, float]],
    unsettled: set[int],
) -> None:
    """Each record's note as Anki last showed it: its modification time (a later one is
    looked at again, as is every `unsettled` note), from each of the `seen` answers (times,
    and when their request was sent), a later answer over an earlier; and the day of this
    sync, for Anki's `edited:N` search (kept to the day: a finer time would rewrite the state
    on every sync; and not moved on while an edit made in Anki waits, so the search still
    finds it). A time is kept as seen when it was asked, not now: a note edited in the second
    its time was read keeps that time, however long the sync ran after the read."""
    now = int(time.time())
    for mods, asked_at in seen:
        for nid, mod in (mods or {}).items():
            as_seen = mod_as_seen(mod, asked_at)
            record = state.notes.get(nid)
            if record is not None and record.anki_mod != as_seen and nid not in unsettled:
                state.notes[nid] = dataclasses.replace(record, anki_mod=as_seen)
    if not unsettled and now // 86400 != state.synced_at // 86400:
        state.synced_at = now


def _settle_pulled(
    state: SyncState, items: Sequence[SyncNote], snapshot: AnkiSnapshot, report: SyncReport
) -> None:
    """After a pull alone: a note whose markdown now renders to all Anki holds is recorded
    as pushed, so that the sync after it has nothing to look at."""
    pulled = {p.note_id for p in report.pulled}
    for item in items:
        nid = item.note.note_id
        if not isinstance(item, Rendered) or nid not in pulled or nid not in snapshot.notes:
            continue
        held = snapshot.notes[nid].fields
        if all(shows_the_same(held.get(n, ""), html) for n, html in item.fields.items()):
            record = pushed_record(item)
            digests = {n: field_digest(held[n]) for n in item.fields}
            state.notes[nid] = dataclasses.replace(record, fields=digests)


def _remember_base(
    base: PushedFields,
    state: SyncState,
    items: Sequence[SyncNote],
    added: Sequence[tuple[Rendered, int]],
    plan: Plan,
) -> None:
    """Each rendered note that Anki and the vault now agree on, as the base of a later
    merge: its markdown and HTML per field."""
    conflicting = {c.note_id for c in plan.conflicts}
    agreed = [
        (item, item.note.note_id)
        for item in items
        if isinstance(item, Rendered)
        and item.note.note_id in state.notes
        and item.note.note_id not in conflicting
    ]
    for item, nid in [*agreed, *added]:
        base.put(nid, item.note.fields, item.fields)


def _load(
    root: Path,
    reporter: Reporter,
    left_out: Collection[str] = (),
    read: VaultFiles | None = None,
    scope: Collection[str] | None = None,
) -> tuple[Vault, set[int]]:
    """The vault without the notes and deletions of the `left_out` files, and those notes'
    IDs; raises NotecardsError for an error elsewhere. `read`: its files, read already;
    `scope`: the files to parse (None: all)."""
    vault = load_vault(root, lambda paths: reporter.progress(paths, "reading"), read, scope)
    parsed = vault.parsed
    if any(p.path not in left_out for p in parsed.errors):
        raise NotecardsError(parsed.problems)
    if not left_out:
        return vault, set()
    held_back = {n.note_id for n in parsed.notes if n.path in left_out and n.note_id}
    parsed.notes = [n for n in parsed.notes if n.path not in left_out]
    parsed.deletions = [d for d in parsed.deletions if d.path not in left_out]
    parsed.problems = [p for p in parsed.problems if p.path not in left_out]
    return vault, held_back


def _render_lost(
    renderer: Renderer, items: list[SyncNote], present: set[int]
) -> tuple[list[SyncNote], list[Problem]]:
    """`items`, with the unrendered notes Anki no longer has rendered, and their warnings;
    raises NotecardsError with the errors of those that do not render or break a rule."""
    lost = [
        index
        for index, item in enumerate(items)
        if isinstance(item, Unrendered) and item.note.note_id not in present
    ]
    rendered, problems = render_checked(renderer, [items[i] for i in lost])
    items = list(items)
    for index, item in zip(lost, rendered, strict=True):
        items[index] = item
    return items, problems


def _leave_out_read_only(
    items: list[SyncNote], vault: Vault
) -> tuple[list[SyncNote], list[Problem]]:
    """New blocks whose ID could not be written (their file is read-only) are left out: Anki
    would get a note the vault can never name, and the next sync would add it again."""
    read_only = {
        path
        for path in {i.note.path for i in items if i.note.note_id is None}
        if is_read_only(vault.root / path)
    }
    left_out = [i for i in items if i.note.note_id is None and i.note.path in read_only]
    problems = [
        Problem(
            "a new card here needs an ID, but the file is read-only: it is not added to Anki"
            " (make the file writable and sync again)",
            i.note.location,
        )
        for i in left_out
    ]
    return [i for i in items if i not in left_out], problems


def _inputs_as_left(vault: Vault, state: SyncState, items: Sequence[SyncNote]) -> str:
    """The vault's inputs (render/inputs.py) as this sync leaves its files, when their bytes
    are known: every file written (IDs, edits made in Anki) from the bytes read, no note
    embedding the text of a markdown file the inputs do not hold. Else ""."""
    files = vault.parsed.files  # (with the digests _write_ids and _as_pulled wrote)
    if not all(s.digest for s in files.values()):
        return ""
    if _embeds_unread_text(state, files, items):
        return ""
    return inputs_digest(vault.root, vault.config, files)


def _nothing_left(
    vault: Vault,
    state: SyncState,
    added: Sequence[tuple[Rendered, int]],
    report: SyncReport,
    unsettled: set[int],
    unread: Mapping[int, PushedNote],
) -> bool:
    """Whether this sync leaves nothing to do (as_left.py): no problem, conflict, pending add
    or edit made in Anki waiting; the state's records are the vault's notes (those of the
    files read, and the `unread` ones), no more (a record whose block is gone is warned
    about each time)."""
    plan = report.plan
    if report.problems or plan.problems or plan.conflicts or unsettled or state.pending_tag:
        return False
    notes = vault.parsed.notes
    replaced = {a.replaces for a in plan.adds if a.replaces is not None}
    ids = {n.note_id for n in notes if n.note_id is not None} - replaced
    ids |= {nid for _, nid in added} | unread.keys()
    return ids == state.notes.keys() and len(ids) == len(notes) + len(unread)


def _rendered_problems(vault: Vault, items: Sequence[SyncNote]) -> dict[tuple[str, int], list]:
    """The problems (render/checks.py) of each note this sync rendered, by its place."""
    problems = {}
    for item in items:
        if isinstance(item, Rendered):
            as_note = RenderedNote(item.note, item.fields, item.media, item.deps, item.warnings)
            problems[_key(item)] = note_problems(as_note, vault.config)
    return problems


def _warned(
    state: SyncState,
    items: Sequence[SyncNote],
    added: Sequence[tuple[Rendered, int]],
    problems: dict[tuple[str, int], list[Problem]],
) -> frozenset[int] | None:
    """The records whose note rendered with a problem when it last did (`SyncState.warned`):
    of the notes this sync rendered, by their rendering; of the others, the last state's."""
    rendered = [item for item in items if isinstance(item, Rendered)]
    ids = {item.note.note_id for item in rendered} | {nid for _, nid in added}
    warned = {item.note.note_id for item in rendered if problems.get(_key(item))}
    warned |= {nid for item, nid in added if problems.get(_key(item))}
    if state.warned is not None:
        warned |= state.warned - ids
    elif not state.notes.keys() <= ids:
        return None  # (not known for a record this sync did not render)
    return frozenset(warned & state.notes.keys())


# At most this many unchanged notes with a problem are rendered again, to tell check's
# verdict their problems (about a tenth of a second; many more: no verdict, check renders).
RENDER_AGAIN = 100


def _leave_verdict(
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    items: Sequence[SyncNote],
    problems: dict[tuple[str, int], list[Problem]],
    inputs: str,
    report: SyncReport,
    unread: Verdict | None = None,
) -> None:
    """`check`'s verdict on the vault as this sync leaves it (render/inputs.py), as a build
    leaves one: the parse's problems, those of the notes this sync rendered, and those of the
    unchanged notes that had one (`state.warned`), rendered again; of the files it did not
    read, what the last verdict says (`unread`); not the listing's (those the load found
    first: the vault is not listed again). Not when that is unknown or too many, or IDs
    written (or DELETE lines taken out) moved a problem's line."""
    if state.warned is None:
        return
    again = [i for i in items if isinstance(i, Unrendered) and i.note.note_id in state.warned]
    if len(again) > RENDER_AGAIN:
        return
    rendered = [p for item in items if isinstance(item, Rendered) for p in problems[_key(item)]]
    for item in again:
        rendered += check_note(item.note, vault.config, renderer)
    listed = vault.listed
    loaded = vault.parsed.problems
    notes = notes_per_file(vault.parsed.files, vault.parsed.notes)
    found = loaded[len(listed) :]
    if unread is not None:  # (in the files' order, as a load of every file finds them)
        order = {path: index for index, path in enumerate(vault.parsed.files)}
        found = sorted([*found, *unread.loaded], key=lambda p: order.get(p.path, len(order)))
        rendered += unread.rendered
        notes.update(unread.notes)
    moved = bool(report.files_written)
    if loaded[: len(listed)] != listed or (moved and (rendered or found)):
        return
    unnumbered = {(n.path, n.start_line) for n in vault.parsed.notes if n.note_id is None}
    unnumbered -= {(path, line) for path, line, _ in report.written_ids}
    verdict = Verdict(found, rendered, notes, len(unnumbered))
    save_verdict(vault.root, inputs, verdict)


def _unread_verdict(vault: Vault, scope: Collection[str] | None, inputs: str) -> Verdict | None:
    """What the verdict the last sync left on its `inputs` says of the files this one did not
    read (those outside `scope`); None where it read every file, or there is no such verdict
    (or one with a note without an ID: the count is not per file)."""
    if scope is None:
        return None
    last = last_verdict(vault.root, inputs, vault.parsed.files)
    if last is None or last.unnumbered:
        return None
    return Verdict(
        [p for p in last.loaded if p.path not in scope],
        [p for p in last.rendered if p.path not in scope],
        {path: counts for path, counts in last.notes.items() if path not in scope},
        0,
    )


def _embeds_unread_text(
    state: SyncState, files: Collection[str], items: Sequence[SyncNote]
) -> bool:
    """Whether a note embeds the text of a markdown file that is not one of the vault's notes
    (outside `scan_dir`, or ignored): its edit is in no digest of the inputs."""
    deps = [list(i.deps) for i in items if isinstance(i, Rendered)]
    deps += [json.loads(r.deps) for r in state.notes.values() if r.deps and '["embed",' in r.deps]
    return embeds_unread_text(deps, files)


def _remember_files(
    state: SyncState,
    vault: Vault,
    renderer: Renderer,
    plan: Plan,
    unread: Mapping[int, PushedNote],
) -> None:
    """Record the file list under which every record's deps now hold: those of the vault's
    notes were checked or rendered against it (the `unread` ones' are as left under it).
    Not while a conflict keeps an old record (it must be looked at again, and reported
    again); a record whose block is gone was not checked, so its deps become unknown (were
    the block pasted back, it renders)."""
    files = files_digest(renderer)
    if plan.conflicts or files == state.vault_files:
        return
    gone = plan.pushed.keys() - {n.note_id for n in vault.parsed.notes} - unread.keys()  # (--prune)
    for note_id in gone:
        if state.notes[note_id].deps:
            state.notes[note_id] = dataclasses.replace(state.notes[note_id], deps=None)
    state.vault_files = files


def _apply(
    client: AnkiConnect,
    vault: Vault,
    renderer: Renderer,
    state: SyncState,
    snapshot: AnkiSnapshot,
    media: MediaFiles,
    report: SyncReport,
    reporter: Reporter,
    two_way: bool,
    meanwhile: Callable[[Sequence[tuple[Rendered, int]], WriteBackResult], None],
) -> tuple[list[tuple[Rendered, int]], dict[int, int], float]:
    """Apply the plan; the caller saves the state if it changed. Gives the notes added
    (with their new ids) and, for a two-way sync, the changed notes' modification times
    (_after_push), and when they were asked. `meanwhile` is called with the notes added, on
    another thread, while Anki answers the last request: the saves that need nothing of its
    answer (the pushed fields' fsyncs, the parse cache's JSON: 50 to 150 ms of a first sync
    of 1,000) hidden behind the 0.2 s Anki spends on that request."""
    plan = report.plan
    tag = pending_tag(vault.root)
    journal = [a for a in plan.adds if not a.restore]
    if journal:
        state.pending_tag = tag
        save_state(vault.root, state)
    fault_point("journaled")

    deck_ids = {name.casefold(): deck_id for name, deck_id in snapshot.decks.items()}
    # With adds by package import, the decks are created in its first request (push.add).
    by_import = push.by_import(snapshot.shares_files, journal, plan.restored)
    if not by_import:
        deck_ids.update(push.create_decks(client, plan.decks, reporter))
    fault_point("decks_created")

    if plan.media:
        reporter.info(f"storing {len(plan.media)} media file(s)")
        report.problems += store_media(client, plan.media, media.read, state)
    fault_point("media_stored")

    added = push.add(
        client,
        vault,
        journal,
        plan.restored,
        tag,
        reporter,
        local=snapshot.shares_files,
        deck_ids=deck_ids,
        new_decks=plan.decks if by_import else (),
    )
    deck_ids.update(added.imported.deck_ids)
    report.problems += added.problems
    new_notes = [item for item, _ in added.through_add_notes + added.imported.added]
    _store_late_media(client, vault, new_notes, state, report)
    fault_point("notes_added")
    present, problems = push.fix_decks(client, added, deck_ids, tag)
    report.problems += problems
    taken = [
        (item, nid)
        for item, nid in added.through_add_notes + added.imported.added
        if nid in present
    ]
    restored = [(item, nid) for item, nid in added.imported.restored if nid in present]
    fault_point("decks_fixed")

    report.problems += push.update(client, plan, reporter)
    fault_point("updated")

    problems = push.delete(client, plan)
    report.problems += problems
    fault_point("deleted")

    written = _write_ids(vault, plan, taken, deleted=not problems, report=report, reporter=reporter)
    fault_point("ids_written")

    # Only a note whose ID is in its file loses the pending tag; the others stay journaled,
    # and the next run recovers them.
    cleared = [nid for item, nid in taken if _key(item) in written.written]
    actions = [("removeTags", {"notes": cleared, "tags": tag})] if cleared else []
    added = [nid for _, nid in taken + restored]
    ids, asked = _after_push_asks(state, plan, added) if two_way else ([], [])
    # What Anki now holds, known before it answers (the answer only adds to the records).
    state.notes = dict(plan.pushed)
    for item, nid in taken + restored:
        state.notes[nid] = pushed_record(item)
    for d in plan.deletes if not problems else ():
        state.notes.pop(d.note_id, None)
    asked_at = time.time()
    with ThreadPoolExecutor(1) as pool:  # (left only once `meanwhile` is done, even on error)
        done = pool.submit(meanwhile, taken + restored, written)
        answers = client.multi(actions + asked)
        done.result()
    report.problems += push.refusals(actions, answers[: len(actions)], [None] * len(actions))
    fault_point("pending_cleared")

    if journal and len(cleared) == len(journal):
        state.pending_tag = ""  # every journaled add is in Anki with its ID in the vault
    report.applied = True
    mods = _after_push(state, report, ids, asked, answers[len(actions) :])
    return taken + restored, mods, asked_at


def _key(item: Rendered) -> tuple[str, int]:
    return (item.note.path, item.note.start_line)


def _write_ids(
    vault: Vault,
    plan: Plan,
    added: Sequence[tuple[Rendered, int]],
    *,
    deleted: bool,
    report: SyncReport,
    reporter: Reporter,
) -> WriteBackResult:
    """New IDs into their blocks, and DELETE lines out (only once Anki deleted the notes);
    in the result, the blocks (path, start line) whose ID is now in their file, and the
    files written, to parse for the cache (`meanwhile`, while Anki works)."""
    ids_at = {_key(item): nid for item, nid in added}
    planned = {d.note_id for d in plan.deletes}
    deletions = [d for d in vault.parsed.deletions if deleted or d.note_id not in planned]
    if not ids_at and not deletions:
        return WriteBackResult()
    files = {path for path, _ in ids_at} | {d.path for d in deletions}
    with reporter.counting(len(files), "writing IDs") as done:
        result = write_back(
            vault.root,
            vault.parsed.files,
            ids_at,
            deletions,
            config=vault.config,
            notes=vault.parsed.notes,
            done=done,
        )
    report.files_written += [p for p in result.files_written if p not in report.files_written]
    report.problems += result.problems
    # Each file as written, for the state's `as_left`: its new digest, or none (an edit the
    # user made meanwhile, kept: bytes this sync never read).
    for path in result.files_written:
        snapshot = vault.parsed.files[path]
        vault.parsed.files[path] = dataclasses.replace(
            snapshot, digest=result.digests.get(path, "")
        )
    report.written_ids = [(p, ln, i) for (p, ln), i in ids_at.items() if (p, ln) in result.written]
    return result


def _store_late_media(
    client: AnkiConnect,
    vault: Vault,
    new_notes: Sequence[Rendered],
    state: SyncState,
    report: SyncReport,
) -> None:
    """The files that new blocks, rendered while adding, embed (a crash before this is
    harmless: the recovered notes have no record yet, so the next sync plans their media)."""
    rendered = [item for item in new_notes if item.note.note_id is None]
    media = media_files(vault, rendered, state, client)
    report.problems += media.problems
    planned = {m.anki_name for m in report.plan.media}
    late = [m for m in plan_media(rendered, state, media.digests) if m.anki_name not in planned]
    if late:
        report.problems += store_media(client, late, media.read, state)
        report.plan.media += late
