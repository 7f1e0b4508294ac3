"""`notecards sync`: make Anki match the vault through AnkiConnect, safely and in few requests.

Order of work, chosen so that a sync killed at any moment and run again duplicates nothing:
1. read the vault and the state; render only the notes whose source changed since last push;
2. one request learns what Anki holds (`multi`: version, decks, which known ids Anki still
   has, notesInfo of the rendered notes only, pending adds); notes Anki lost are rendered;
3. recover an interrupted run (below); plan the whole change (`plan.make_plan`);
4. journal the adds in the state, then add each note with a tag `notecards::pending::<token>`
   (the token is derived from the block itself, so a re-run finds it even without the state);
5. update, move, delete; write the new IDs into the files (atomic, see writeback.py); only then
   remove the pending tags and save the state.
A re-run first looks for pending tags: a note whose ID is already in the vault just loses its
tag, one whose token matches a block gets its ID written, one journaled by an earlier run whose
block is gone or changed is deleted (nobody else knows its ID).

Test-only fault hook: `NOTECARDS_FAULT_AT=<step>` SIGKILLs the process at that step (one of
FAULT_STEPS), so the crash test can stop a real sync at each step in turn.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import signal
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notecards import __version__
from notecards.model import MediaRef, Note, NotecardsError, Problem, RenderedNote, Severity
from notecards.output import Reporter
from notecards.plan import (
    Add,
    MediaUpload,
    Plan,
    Target,
    make_plan,
    needs_deck_check,
    needs_render,
    plan_media,
    pushed_record,
    source_hash,
)
from notecards.render import Renderer
from notecards.state import STATE_DIR, SyncState, load_state, save_state
from notecards.targets.ankiconnect import (
    ADD_BATCH,
    AnkiConnect,
    AnkiConnectError,
    AnkiNote,
    NewNote,
    is_loopback,
    parse_notes_info,
)
from notecards.targets.package import PackageWriter
from notecards.vault import Vault, load_vault
from notecards.writeback import write_back

PENDING_TAG = "notecards::pending::"
FAULT_ENV = "NOTECARDS_FAULT_AT"
TAG_CHUNK = 250
FIRST_ADD_BATCH = 50
FAULT_STEPS = (
    "journaled",
    "decks_created",
    "media_stored",
    "notes_added",
    "decks_fixed",
    "updated",
    "deleted",
    "ids_written",
    "pending_cleared",
)


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
    vault, state, targets, snapshot = _read(root, client, reporter, force)
    if snapshot.pending and not dry_run:
        recovered = _recover(client, vault, state, targets, snapshot.pending, reporter)
        vault, state, targets, snapshot = _read(root, client, reporter, force)  # files rewritten
    saved = _Saved(dict(state.notes), dict(state.media), dict(state.pending))
    report = SyncReport(plan=Plan(), recovered=recovered)
    # Unchanged in the vault but gone from Anki: recreated, so rendered after all.
    lost = [
        t
        for t in targets
        if t.fields is None
        and t.note.note_id not in snapshot.present
        and (dry_run or t.note.note_id is not None)  # a dry run shows new blocks' errors too
    ]
    _render(vault, lost)
    card_decks = client.card_decks(
        [
            card
            for t in targets
            if t.note.note_id in snapshot.notes and needs_deck_check(t.note, state)
            for card in snapshot.notes[t.note.note_id].cards
        ]
    )
    media_hashes = _media_hashes(vault, targets, state, client, report)
    report.plan = make_plan(
        targets,
        snapshot.notes,
        card_decks,
        snapshot.decks,
        state,
        vault.parsed.deletions,
        media_hashes,
        prune=prune,
        force=force,
        restore_ids=is_loopback(client.url),  # Anki must be able to read the package file
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
        _apply(client, vault, state, targets, snapshot, report, reporter)
        vault.save_cache()
        if (state.notes, state.media, state.pending) != (saved.notes, saved.media, saved.pending):
            save_state(vault.root, state)
    report.requests = client.requests_sent - start
    return report


# -- reading ---------------------------------------------------------------------------------


@dataclass
class _Saved:
    """The state as read, to save it only when something changed."""

    notes: dict
    media: dict
    pending: dict


def _read(
    root: Path, client: AnkiConnect, reporter: Reporter, force: bool
) -> tuple[Vault, SyncState, list[Target], _AnkiSnapshot]:
    vault = _load(root)
    state = load_state(root, client.url)
    targets = _targets(vault, state, reporter, force)
    return vault, state, targets, _read_anki(client, vault, state, targets)


def _load(root: Path) -> Vault:
    vault = load_vault(root)
    if vault.parsed.errors:
        raise NotecardsError(vault.parsed.problems)
    return vault


def fingerprint(vault: Vault) -> str:
    """Everything besides a note's own text that its rendering depends on."""
    settings = dataclasses.replace(vault.config, ankiconnect_url="", ankiconnect_api_key="")
    return hashlib.sha256(f"{__version__}\n{settings!r}".encode()).hexdigest()


def _targets(vault: Vault, state: SyncState, reporter: Reporter, force: bool) -> list[Target]:
    """Each note with what Anki should hold; only notes changed since the last push render."""
    config_print = fingerprint(vault)
    targets, changed = [], []
    for note in vault.parsed.notes:
        digest = source_hash(note, config_print)
        if note.note_id is None:
            targets.append(Target(note, digest, None))  # rendered while the adds are sent
        elif needs_render(note, digest, state, force):
            targets.append(Target(note, digest, None))
            changed.append(targets[-1])
        else:
            pushed = state.notes[note.note_id]  # type: ignore[index]
            media = tuple(MediaRef(source, name) for source, name in pushed.media)
            targets.append(Target(note, digest, None, media))
    _render(vault, changed, reporter)
    return targets


def _render(vault: Vault, targets: Sequence[Target], reporter: Reporter | None = None) -> None:
    """Fill in each target's fields and media; every note's errors in one NotecardsError."""
    if not targets:
        return
    renderer = Renderer(vault.config, vault.root)
    problems = []
    for target in reporter.progress(targets, "rendering") if reporter else targets:
        try:
            rendered = renderer.render(target.note)
        except NotecardsError as exc:
            problems.extend(exc.problems)
            continue
        target.fields, target.media = dict(rendered.fields), tuple(rendered.media)
    if problems:
        raise NotecardsError(problems)


@dataclass
class _AnkiSnapshot:
    notes: dict[int, AnkiNote]  # what Anki holds for the rendered notes
    present: set[int]  # which of the ids the vault and the state name Anki has
    decks: dict[str, int]  # name -> id
    pending: list[int]


def _read_anki(
    client: AnkiConnect, vault: Vault, state: SyncState, targets: Sequence[Target]
) -> _AnkiSnapshot:
    """One request: version, decks, which known notes Anki still has, what it holds for the
    rendered ones (only those can differ from the last push), pending adds.

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
    answers = client.multi(actions)
    for (_, error), (action, _) in zip(answers, actions, strict=True):
        if error:
            raise AnkiConnectError(f"AnkiConnect refused {action}: {error}")
    version = answers[0][0]
    if not isinstance(version, int) or version < 6:
        raise AnkiConnectError(f"AnkiConnect speaks API version {version}; notecards needs 6.")
    present = set(answers[3][0]) if known else set()
    notes = parse_notes_info(answers[4][0]) if known else {}
    return _AnkiSnapshot(notes, present, answers[1][0], answers[2][0])


def _media_hashes(
    vault: Vault, targets: Sequence[Target], state: SyncState, client: AnkiConnect, report
) -> dict[str, str]:
    """sha256 of each embedded file; names the state does not know are compared with Anki's copy."""
    hashes: dict[str, str] = {}
    for target in targets:
        for ref in target.media:
            if ref.anki_name in hashes:
                continue
            path = (vault.root / ref.source).resolve()
            if not path.is_relative_to(vault.root.resolve()) or not path.is_file():
                report.problems.append(
                    Problem(
                        target.note.path, target.note.start_line, f"media not found: {ref.source}"
                    )
                )
                continue
            hashes[ref.anki_name] = hashlib.sha256(path.read_bytes()).hexdigest()
    unknown = sorted(name for name in hashes if name not in state.media)
    answers = client.multi([("retrieveMediaFile", {"filename": n}) for n in unknown])
    for name, (data, _) in zip(unknown, answers, strict=True):
        if isinstance(data, str) and _sha256_b64(data) == hashes[name]:
            state.media[name] = hashes[name]  # Anki already has this very file
    return hashes


def _sha256_b64(data: str) -> str:
    return hashlib.sha256(base64.b64decode(data)).hexdigest()


# -- recovery --------------------------------------------------------------------------------


def add_tokens(targets: Sequence[Target]) -> dict[str, Target]:
    """token -> note: derived from the block (path, source, old ID, occurrence), never random,
    so that a re-run recognises the notes an interrupted run added, with or without the state."""
    seen: dict[str, int] = defaultdict(int)
    tokens = {}
    for target in targets:
        note = target.note
        key = f"{note.path}\0{target.source_hash}\0{note.note_id or ''}"
        seen[key] += 1
        tokens[hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:24]] = target
    return tokens


def _recover(
    client: AnkiConnect,
    vault: Vault,
    state: SyncState,
    targets: Sequence[Target],
    pending: Sequence[int],
    reporter: Reporter,
) -> list[str]:
    """Finish what an interrupted sync left: IDs into files, pending tags off, orphans out."""
    reporter.info(f"recovering {len(pending)} note(s) added by an interrupted sync")
    infos = client.notes_info(pending)
    vault_ids = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    tokens = add_tokens(targets)
    to_write: dict[tuple[str, int], int] = {}
    claimed: dict[str, int] = {}
    done, orphans, lines = [], [], []
    for note_id in sorted(infos):
        token = _pending_token(infos[note_id].tags)
        target = tokens.get(token or "")
        if note_id in vault_ids:
            done.append(note_id)
        elif target is not None and token not in claimed:
            claimed[token] = note_id  # type: ignore[index]
            to_write[(target.note.path, target.note.start_line)] = note_id
            lines.append(f"{target.note.where}: note {note_id} (ID written)")
        elif token in state.pending or token in claimed:
            orphans.append(note_id)
        else:
            reporter.info(f"note {note_id} carries {PENDING_TAG}{token} from another vault; left")
    result = write_back(
        vault.root, vault.parsed.files, to_write, config=vault.config, notes=vault.parsed.notes
    )
    if result.problems:
        raise NotecardsError(result.problems)
    done += list(to_write.values())
    _run(client, [_remove_tag_action(i, infos[i].tags) for i in done], "removeTags")
    if orphans:
        client.invoke("deleteNotes", notes=orphans)
    state.pending = {}
    save_state(vault.root, state)
    return lines + [
        f"note {n}: added twice by an interrupted sync; extra copy deleted" for n in orphans
    ]


def _pending_token(tags: Sequence[str]) -> str | None:
    for tag in tags:
        if tag.casefold().startswith(PENDING_TAG):
            return tag[len(PENDING_TAG) :].lower()
    return None


def _remove_tag_action(note_id: int, tags: Sequence[str]) -> tuple[str, dict[str, Any]]:
    marker = next(t for t in tags if t.casefold().startswith(PENDING_TAG))
    return ("removeTags", {"notes": [note_id], "tags": marker})


# -- applying --------------------------------------------------------------------------------


def _fault_point(step: str) -> None:
    """Test-only: die here, as a power cut would, when NOTECARDS_FAULT_AT names this step."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _run(client: AnkiConnect, actions: list[tuple[str, dict[str, Any]]], what: str) -> list[str]:
    """Send `actions` in one `multi`; the errors, as sentences."""
    answers = client.multi(actions)
    return [f"{what}: {error}" for (_, error) in answers if error]


def _apply(
    client: AnkiConnect,
    vault: Vault,
    state: SyncState,
    targets: Sequence[Target],
    snapshot: _AnkiSnapshot,
    report: SyncReport,
    reporter: Reporter,
) -> None:
    """Apply the plan; the caller saves the state if it changed."""
    plan = report.plan
    token_of = {id(t): token for token, t in add_tokens(targets).items()}
    journal = [(a, token_of[id(a.target)]) for a in plan.adds if not a.restore]
    if journal:
        state.pending = {token: a.target.note.path for a, token in journal}
        save_state(vault.root, state)
    _fault_point("journaled")

    deck_ids = {name.casefold(): deck_id for name, deck_id in snapshot.decks.items()}
    if plan.decks:
        reporter.info(f"creating {len(plan.decks)} deck(s)")
        answers = client.multi([("createDeck", {"deck": d}) for d in plan.decks])
        _raise_on([f"createDeck: {error}" for _, error in answers if error])
        for deck, (deck_id, _) in zip(plan.decks, answers, strict=True):
            deck_ids[deck.casefold()] = deck_id
    _fault_point("decks_created")

    if plan.media:
        reporter.info(f"storing {len(plan.media)} media file(s)")
        _store_media(client, vault.root, plan.media, state, report)
    _fault_point("media_stored")

    added = _add(client, vault, journal, report, reporter)
    _store_late_media(client, vault, [a.target for a, _ in journal], state, report)
    restored = _restore(client, vault, plan.restored, reporter)
    _fault_point("notes_added")
    present = _fix_decks(client, added, restored, deck_ids, report)
    _fault_point("decks_fixed")

    _update(client, plan, report, reporter)
    _fault_point("updated")

    deleted = _delete(client, plan, report)
    _fault_point("deleted")

    _write_ids(vault, plan, added, deleted, report)
    _fault_point("ids_written")

    unwritten = {(p.path, p.line) for p in report.problems}
    cleared = [(a, nid, tok) for a, nid, tok in added if _key(a.target.note) not in unwritten]
    # Anki matches every listed tag against every listed note: a few hundred per action.
    chunks = [cleared[i : i + TAG_CHUNK] for i in range(0, len(cleared), TAG_CHUNK)]
    actions = [
        (
            "removeTags",
            {"notes": [n for _, n, _ in c], "tags": " ".join(PENDING_TAG + t for _, _, t in c)},
        )
        for c in chunks
    ]
    report.problems += [_problem_at(None, e) for e in _run(client, actions, "removeTags")]
    _fault_point("pending_cleared")

    state.notes = dict(plan.pushed)
    for a, nid in [(a, nid) for a, nid, _ in added] + restored:
        if nid in present:
            state.notes[nid] = pushed_record(a.target, a.target.fields)  # type: ignore[arg-type]
    for d in plan.deletes if deleted else ():
        state.notes.pop(d.note_id, None)
    # An add whose ID could not be written stays journaled: the next run recovers it.
    done = {tok for _, _, tok in cleared}
    state.pending = {tok: path for tok, path in state.pending.items() if tok not in done}
    report.applied = True


def _key(note: Note) -> tuple[str, int]:
    return (note.path, note.start_line)


def _write_ids(vault: Vault, plan: Plan, added, deleted: bool, report: SyncReport) -> None:
    """New IDs into their blocks, and DELETE lines out (only once Anki deleted the notes)."""
    ids_at = {_key(a.target.note): nid for a, nid, _ in added}
    planned = {d.note_id for d in plan.deletes}
    deletions = [d for d in vault.parsed.deletions if deleted or d.note_id not in planned]
    if not ids_at and not deletions:
        return
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
    failed = {(p.path, p.line) for p in result.problems}
    report.written_ids = [(p, ln, nid) for (p, ln), nid in ids_at.items() if (p, ln) not in failed]


def _raise_on(errors: list[str]) -> None:
    if errors:
        raise AnkiConnectError("; ".join(errors))


def _problem_at(note: Note | None, message: str) -> Problem:
    if note is None:
        return Problem(".notecards", 1, message)
    return Problem(note.path, note.start_line, message)


def _store_media(
    client: AnkiConnect,
    root: Path,
    uploads: Sequence[MediaUpload],
    state: SyncState,
    report: SyncReport,
) -> None:
    actions = [
        (
            "storeMediaFile",
            {
                "filename": m.anki_name,
                "data": base64.b64encode((root / m.source).read_bytes()).decode("ascii"),
            },
        )
        for m in uploads
    ]
    for upload, (_, error) in zip(uploads, client.multi(actions), strict=True):
        if error:
            report.problems.append(Problem(upload.source, 1, f"Anki refused the file: {error}"))
        else:
            state.media[upload.anki_name] = upload.sha256


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
    hashes = _media_hashes(vault, rendered, state, client, report)
    planned = {m.anki_name for m in report.plan.media}
    late = [m for m in plan_media(rendered, state, hashes) if m.anki_name not in planned]
    if late:
        _store_media(client, vault.root, late, state, report)
        report.plan.media += late


def _add(
    client: AnkiConnect,
    vault: Vault,
    journal: list[tuple[Add, str]],
    report: SyncReport,
    reporter: Reporter,
) -> list[tuple[Add, int, str]]:
    """Add the journaled notes, each tagged with its token; (add, new id, token) per success.

    New blocks are rendered here, in a worker thread, one batch ahead of the `addNotes` in
    flight: Anki's time hides the rendering. A block that fails to render is reported and not
    added; the others are (the vault and Anki stay consistent either way)."""
    if not journal:
        return []
    reporter.info(f"adding {len(journal)} note(s)")
    # A small first batch: Anki starts adding after 50 renders, not 250.
    starts = [0, *range(FIRST_ADD_BATCH, len(journal), ADD_BATCH)]
    batches = [journal[i:j] for i, j in zip(starts, [*starts[1:], len(journal)], strict=True)]
    renderer = Renderer(vault.config, vault.root)
    added = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        next_batch = worker.submit(_render_batch, renderer, batches[0])
        for index in range(len(batches)):
            batch, problems = next_batch.result()
            if index + 1 < len(batches):
                next_batch = worker.submit(_render_batch, renderer, batches[index + 1])
            report.problems.extend(problems)
            added += _add_batch(client, batch, report)
            reporter.info(f"added {len(added)}/{len(journal)}")
    return added


def _render_batch(
    renderer: Renderer, batch: list[tuple[Add, str]]
) -> tuple[list[tuple[Add, str]], list[Problem]]:
    """The batch's notes that render (fields filled in), and the problems of those that don't."""
    ready, problems = [], []
    for add, token in batch:
        target = add.target
        if target.fields is None:
            try:
                rendered = renderer.render(target.note)
            except NotecardsError as exc:
                problems.extend(exc.problems)
                continue
            target.fields, target.media = dict(rendered.fields), tuple(rendered.media)
        ready.append((add, token))
    return ready, problems


def _add_batch(
    client: AnkiConnect, batch: list[tuple[Add, str]], report: SyncReport
) -> list[tuple[Add, int, str]]:
    notes = [
        NewNote(
            deck=a.target.note.deck,
            model=a.target.note.note_type,
            fields=a.target.fields,  # type: ignore[arg-type]
            tags=(*a.target.note.tags, PENDING_TAG + token),
        )
        for a, token in batch
    ]
    result = client.add_notes(notes)
    added = []
    for (add, token), nid, error in zip(batch, result.ids, result.errors, strict=True):
        if nid is None:
            report.problems.append(_problem_at(add.target.note, f"Anki refused the note: {error}"))
        else:
            added.append((add, nid, token))
    return added


def _restore(
    client: AnkiConnect, vault: Vault, adds: list[Add], reporter: Reporter
) -> list[tuple[Add, int]]:
    """Re-create notes under their own IDs: AnkiConnect cannot choose a note id, but a
    package imported into Anki keeps its note ids (the same package `build` writes)."""
    if not adds:
        return []
    reporter.info(f"restoring {len(adds)} note(s) under their own IDs")
    writer = PackageWriter(vault.config.note_types, vault.root)
    now = int(time.time())
    for a in adds:
        writer.add(RenderedNote(a.target.note, a.target.fields, a.target.media), a.replaces, now)
    package = vault.root / STATE_DIR / f"restore-{os.getpid()}.apkg"
    try:
        writer.write(package)
        client.invoke("importPackage", path=str(package.resolve()))
    finally:
        package.unlink(missing_ok=True)
    return [(a, a.replaces) for a in adds if a.replaces is not None]


def _fix_decks(
    client: AnkiConnect,
    added: list[tuple[Add, int, str]],
    restored: list[tuple[Add, int]],
    deck_ids: dict[str, int],
    report: SyncReport,
) -> set[int]:
    """Some add-on releases file every new card in Default: look, and move the ones misfiled.

    One request asks, per deck, for the new cards not in it (`did:` excludes subdecks), and
    whether the imported notes are there; a second one moves cards only if some are misfiled.
    Returns the ids Anki really has (an import can skip a note: reported here)."""
    notes_in: dict[str, list[int]] = defaultdict(list)
    for add, nid in [(a, nid) for a, nid, _ in added] + restored:
        notes_in[add.target.note.deck].append(nid)
    if not notes_in:
        return set()
    decks = sorted(notes_in)
    actions = [
        ("findCards", {"query": f"nid:{_ids(notes_in[d])} -did:{deck_ids[d.casefold()]}"})
        for d in decks
    ]
    if restored:
        actions.append(("findNotes", {"query": f"nid:{_ids([nid for _, nid in restored])}"}))
    answers = client.multi(actions)
    _raise_on([f"{name}: {e}" for (name, _), (_, e) in zip(actions, answers, strict=True) if e])
    present = {nid for _, nid, _ in added} | set(answers[-1][0] if restored else ())
    for add, nid in restored:
        if nid not in present:
            report.problems.append(
                _problem_at(add.target.note, f"Anki did not keep note {nid}; run sync again")
            )
    misfiled = [(d, cards) for d, (cards, _) in zip(decks, answers, strict=False) if cards]
    errors = _run(
        client, [("changeDeck", {"cards": c, "deck": d}) for d, c in misfiled], "changeDeck"
    )
    report.problems += [_problem_at(None, e) for e in errors]
    return present


def _ids(note_ids: Sequence[int]) -> str:
    return ",".join(map(str, note_ids))


def _update(client: AnkiConnect, plan: Plan, report: SyncReport, reporter: Reporter) -> None:
    """Fields, tags and decks of existing notes, in one `multi`."""
    if not plan.updates:
        return
    reporter.info(f"updating {len(plan.updates)} note(s)")
    actions: list[tuple[str, dict[str, Any]]] = []
    owners: list[str] = []
    for u in plan.updates:
        if u.fields:
            actions.append(("updateNoteFields", {"note": {"id": u.note_id, "fields": u.fields}}))
            owners.append(u.where)
    for name, per_tag in (
        ("addTags", _by_tag(plan, add=True)),
        ("removeTags", _by_tag(plan, add=False)),
    ):
        for tag, notes in per_tag.items():
            actions.append((name, {"notes": notes, "tags": tag}))
            owners.append(f"tag {tag}")
    moves: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        moves[u.deck].extend(u.move_cards)
    for deck, cards in moves.items():
        if cards:
            actions.append(("changeDeck", {"cards": cards, "deck": deck}))
            owners.append(f"deck {deck}")
    for owner, (_, error) in zip(owners, client.multi(actions), strict=True):
        if error:
            path, _, line = owner.rpartition(":")
            where = Problem(path, int(line), error) if line.isdigit() else _problem_at(None, error)
            report.problems.append(where)


def _by_tag(plan: Plan, add: bool) -> dict[str, list[int]]:
    """tag -> notes: one addTags/removeTags per tag, whatever the number of notes."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        for tag in u.add_tags if add else u.remove_tags:
            grouped[tag].append(u.note_id)
    return grouped


def _delete(client: AnkiConnect, plan: Plan, report: SyncReport) -> bool:
    if not plan.deletes:
        return True
    try:
        client.invoke("deleteNotes", notes=[d.note_id for d in plan.deletes])
    except AnkiConnectError as exc:
        report.problems.append(_problem_at(None, str(exc)))
        return False
    return True
