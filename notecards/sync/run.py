"""`notecards sync`: make Anki match the vault through AnkiConnect, safely and in few requests.

Order of work, chosen so that a sync killed at any moment and run again duplicates nothing:
1. read the vault and the state; render only the notes whose source changed since last push,
   or whose links or embeds now name other files (read_vault.py);
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
from collections.abc import Sequence
from pathlib import Path

from notecards.faults import fault_point
from notecards.output import Reporter
from notecards.problems import NotecardsError, Problem, Severity
from notecards.render import Renderer
from notecards.sync import push
from notecards.sync.media import MediaFiles, media_files, store_media
from notecards.sync.notes import Rendered, SyncNote, Unrendered
from notecards.sync.plan import Plan, make_plan, needs_deck_check, plan_media, pushed_record
from notecards.sync.read_anki import AnkiSnapshot, read_anki
from notecards.sync.read_vault import files_digest, render_checked, vault_notes
from notecards.sync.recovery import pending_tag, recover
from notecards.sync.report import SyncReport
from notecards.sync.state import SyncState, load_state, save_state
from notecards.targets.ankiconnect import AnkiConnect
from notecards.vault import Vault, load_vault, write_back
from notecards.vault.atomic import remove_stale_temp_files
from notecards.vault.files import is_read_only
from notecards.vault.lock import vault_lock
from notecards.vault.state_dir import STATE_DIR


def sync_vault(
    root: Path,
    client: AnkiConnect,
    *,
    dry_run: bool = False,
    force: bool = False,
    prune: bool = False,
    reporter: Reporter | None = None,
) -> SyncReport:
    """Plan, and unless `dry_run` apply (holding the vault's lock), the changes that make Anki
    match the vault at `root`.

    Raises NotecardsError for a vault with errors (nothing sent), AnkiConnectError when Anki
    cannot be reached or refuses a request, VaultBusy while another run writes the vault.
    """
    reporter = reporter or Reporter(quiet=True)
    if dry_run:
        return _sync(root, client, dry_run=True, force=force, prune=prune, reporter=reporter)
    with vault_lock(root, waiting=reporter.info):
        return _sync(root, client, dry_run=False, force=force, prune=prune, reporter=reporter)


def _sync(
    root: Path, client: AnkiConnect, *, dry_run: bool, force: bool, prune: bool, reporter: Reporter
) -> SyncReport:
    start = client.requests_sent
    recovered: list[str] = []
    vault = _load(root)
    if not dry_run:
        remove_stale_temp_files(
            {(vault.root / path).parent for path in vault.parsed.files} | {vault.root / STATE_DIR}
        )
    # One for the whole run: the vault is scanned once, on the first link or embed.
    renderer = Renderer(vault.config, vault.root)
    state, items, warnings, snapshot = _read(vault, renderer, client, reporter, force)
    if snapshot.pending and not dry_run:
        recovered, problems = recover(
            client, vault, renderer, state, items, snapshot.pending, snapshot.present, reporter
        )
        if problems:
            raise NotecardsError(problems)
        vault = _load(root)  # IDs written into files (no file added or removed: same scan)
        state, items, warnings, snapshot = _read(vault, renderer, client, reporter, force)
    saved = (dict(state.notes), dict(state.media), state.pending_tag, state.vault_files)
    report = SyncReport(plan=Plan(), recovered=recovered, problems=warnings)
    # Unchanged in the vault but gone from Anki: recreated, so rendered after all.
    items, lost_warnings = _render_lost(renderer, items, snapshot.present)
    report.problems += lost_warnings
    card_decks = client.card_decks(
        [
            card
            for item in items
            if item.note.note_id in snapshot.notes and needs_deck_check(item.note, state)
            for card in snapshot.notes[item.note.note_id].cards
        ]
    )
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
    )
    if snapshot.pending and dry_run:
        message = (
            f"{len(snapshot.pending)} note(s) from an interrupted sync are recovered "
            "when you sync without --dry-run"
        )
        report.problems.append(Problem(message, severity=Severity.WARNING))
    if not dry_run:
        _apply(client, vault, renderer, state, snapshot, media, report, reporter)
        _remember_files(state, vault, renderer, report.plan)
        vault.save_cache()
        if (state.notes, state.media, state.pending_tag, state.vault_files) != saved:
            save_state(vault.root, state)
    report.requests = client.requests_sent - start
    return report


def _read(
    vault: Vault, renderer: Renderer, client: AnkiConnect, reporter: Reporter, force: bool
) -> tuple[SyncState, list[SyncNote], list[Problem], AnkiSnapshot]:
    state = load_state(vault.root, client.url)
    items, warnings = vault_notes(vault, renderer, state, reporter, force)
    return state, items, warnings, read_anki(client, vault, state, items, two_way=False)


def _load(root: Path) -> Vault:
    vault = load_vault(root)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    return vault


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


def _remember_files(state: SyncState, vault: Vault, renderer: Renderer, plan: Plan) -> None:
    """Record the file list under which every record's deps now hold: those of the vault's
    notes were checked or rendered against it. Not while a conflict keeps an old record (it
    must be looked at again, and reported again); a record whose block is gone was not checked,
    so its deps become unknown (were the block pasted back, it renders)."""
    files = files_digest(renderer)
    if plan.conflicts or files == state.vault_files:
        return
    gone = plan.pushed.keys() - {n.note_id for n in vault.parsed.notes}  # kept for --prune
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
        report.problems += store_media(client, plan.media, media.read, state)
    fault_point("media_stored")

    added = push.add(
        client, vault, journal, plan.restored, tag, reporter, local=snapshot.shares_files
    )
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

    written = _write_ids(vault, plan, taken, deleted=not problems, report=report)
    fault_point("ids_written")

    # Only a note whose ID is in its file loses the pending tag; the others stay journaled,
    # and the next run recovers them.
    cleared = [nid for item, nid in taken if _key(item) in written]
    actions = [("removeTags", {"notes": cleared, "tags": tag})] if cleared else []
    report.problems += push.multi_problems(client, actions, [None] * len(actions))
    fault_point("pending_cleared")

    state.notes = dict(plan.pushed)
    for item, nid in taken + restored:
        state.notes[nid] = pushed_record(item)
    for d in plan.deletes if not problems else ():
        state.notes.pop(d.note_id, None)
    if journal and len(cleared) == len(journal):
        state.pending_tag = ""  # every journaled add is in Anki with its ID in the vault
    report.applied = True


def _key(item: Rendered) -> tuple[str, int]:
    return (item.note.path, item.note.start_line)


def _write_ids(
    vault: Vault,
    plan: Plan,
    added: Sequence[tuple[Rendered, int]],
    *,
    deleted: bool,
    report: SyncReport,
) -> set[tuple[str, int]]:
    """New IDs into their blocks, and DELETE lines out (only once Anki deleted the notes);
    the blocks (path, start line) whose ID is now in their file."""
    ids_at = {_key(item): nid for item, nid in added}
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
    report.problems += result.problems
    report.written_ids = [(p, ln, i) for (p, ln), i in ids_at.items() if (p, ln) in result.written]
    return result.written


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
