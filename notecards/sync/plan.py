"""The sync planner: the whole change set, computed before anything is sent.

Pure functions over data: the vault's notes (rendered, or known unchanged), what Anki holds,
and what notecards last pushed (the state). The rule, per field, tag and deck, is a three-way
merge: notecards changes in Anki only what changed in the vault since it last pushed; an edit
made in Anki to something the vault did not change is kept; both changed is a conflict, left
alone unless forced. Without a record of the last push (state deleted, package imported), Anki
is made to match the vault. A note whose source did not change since its last push needs
nothing from Anki but its presence: whatever Anki holds for it is either what notecards pushed
or an edit made in Anki, which is kept. The note type alone never counts as a change: notes
imported from a package carry the package's note type, and AnkiConnect cannot change a note's
type anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from notecards.hashing import field_digest, field_matches
from notecards.model import Deletion, Note
from notecards.problems import Location, Problem, Severity
from notecards.sync.notes import Rendered, SyncNote, Unrendered
from notecards.sync.state import PushedNote, SyncState

if TYPE_CHECKING:
    from notecards.targets.ankiconnect import AnkiNote


@dataclass(frozen=True)
class Add:
    """A note to add: a new block (no ID yet), or one Anki lost."""

    block: Rendered
    replaces: int | None = None  # the note id in the file that Anki no longer has
    # Re-created under its own ID (by importing a package): an ID this Anki never had from
    # notecards. A note deleted in Anki gets a new ID instead (its old one is in Anki's graves).
    restore: bool = False


@dataclass(frozen=True)
class Update:
    """One existing note: only what changes."""

    note_id: int
    where: Location
    fields: dict[str, str] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    move_cards: tuple[int, ...] = ()
    deck: str = ""
    because: tuple[str, ...] = ()  # besides the note's text: which embed or link changed it


@dataclass(frozen=True)
class Delete:
    note_id: int
    where: Location
    reason: str


@dataclass(frozen=True)
class Conflict:
    note_id: int
    where: Location
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MediaUpload:
    anki_name: str
    source: str
    digest: str


@dataclass
class Plan:
    decks: list[str] = field(default_factory=list)
    adds: list[Add] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    media: list[MediaUpload] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    kept: list[Conflict] = field(default_factory=list)  # Anki-side edits left in place
    problems: list[Problem] = field(default_factory=list)
    unchanged: int = 0
    # What the state should say after the plan is applied (new notes are added by id later).
    pushed: dict[int, PushedNote] = field(default_factory=dict)

    @property
    def recreated(self) -> list[Add]:
        return [a for a in self.adds if a.replaces is not None and not a.restore]

    @property
    def restored(self) -> list[Add]:
        return [a for a in self.adds if a.restore]

    def counts(self) -> dict[str, int]:
        return {
            "decks": len(self.decks),
            "add": sum(1 for a in self.adds if a.replaces is None),
            "recreate": len(self.recreated),
            "restore": len(self.restored),
            "update_fields": sum(1 for u in self.updates if u.fields),
            "update_tags": sum(1 for u in self.updates if u.add_tags or u.remove_tags),
            "move": sum(1 for u in self.updates if u.move_cards),
            "delete": len(self.deletes),
            "media": len(self.media),
            "conflicts": len(self.conflicts),
            "kept_anki_edits": len(self.kept),
            "unchanged": self.unchanged,
        }


def needs_render(
    note: Note,
    digest: str,
    state: SyncState,
    links_hold: Callable[[PushedNote, str], bool],
    force: bool = False,
) -> bool:
    """Unchanged since the last push: no render, and no need to ask Anki what it holds
    (unless --force, which overwrites edits made in Anki to unchanged notes too).

    Unchanged means the same source and every link and embed naming the same file as then
    (`links_hold(pushed, path)`, for the note now at `path`): a renamed or moved file changes
    the HTML of a note whose text did not change."""
    pushed = state.notes.get(note.note_id) if note.note_id is not None else None
    return (
        force
        or pushed is None
        or pushed.source_digest != digest
        or pushed.deps is None
        or not links_hold(pushed, note.path)
    )


def needs_deck_check(note: Note, state: SyncState) -> bool:
    """Whether to ask Anki where the note's cards are (only if the vault moved it, or no record)."""
    pushed = state.notes.get(note.note_id) if note.note_id is not None else None
    return pushed is None or pushed.deck != note.deck


def make_plan(
    items: Sequence[SyncNote],
    anki: dict[int, AnkiNote],
    card_decks: dict[int, str],
    anki_decks: Iterable[str],
    state: SyncState,
    deletions: Sequence[Deletion] = (),
    media_hashes: dict[str, str] | None = None,
    prune: bool = False,
    force: bool = False,
    restore_ids: bool = True,
    present: set[int] | None = None,
    unread: Mapping[int, PushedNote] | None = None,
) -> Plan:
    """Everything that must change in Anki for it to match the vault.

    `anki` holds what Anki has for every `Rendered` note; `present` is
    every id Anki has among those the vault and the state name (default: `anki`'s ids).
    `card_decks` covers the cards of the notes for which `needs_deck_check` is true;
    `media_hashes` maps an Anki media name to the content digest of the vault file it comes from;
    `restore_ids` lets a note whose ID Anki lacks, and never had from notecards, keep its ID;
    `unread`: the records of the notes of the files a sync did not read, unchanged
    (sync/scope.py).
    """
    plan = Plan()
    present = set(anki) if present is None else present
    vault_ids = set(unread or ())
    plan.pushed.update(unread or {})
    plan.unchanged = len(vault_ids)
    for item in items:
        note = item.note
        pushed = state.notes.get(note.note_id) if note.note_id is not None else None
        if note.note_id is None or note.note_id not in present:
            if isinstance(item, Unrendered):
                raise ValueError(f"{note.location}: a note to add must be rendered first")
            restore = restore_ids and note.note_id is not None and pushed is None
            plan.adds.append(Add(item, note.note_id, restore))
            continue
        vault_ids.add(note.note_id)
        if isinstance(item, Unrendered):
            if pushed is None:
                raise ValueError(f"{note.location}: a note without a record must be rendered")
            plan.unchanged += 1  # unchanged in the vault: Anki's copy stays as it is
            # (where the block now is: a sync of the changed files finds its file by it)
            moved = pushed.path != note.path
            plan.pushed[note.note_id] = replace(pushed, path=note.path) if moved else pushed
            continue
        _plan_existing(plan, item, anki[note.note_id], pushed, card_decks, force)
    _plan_deletes(plan, deletions, present, state, vault_ids, prune)
    plan.decks = sorted(_new_decks(plan, anki_decks))
    plan.media = plan_media(items, state, media_hashes or {})
    return plan


def _plan_existing(
    plan: Plan,
    item: Rendered,
    anki_note: AnkiNote,
    pushed: PushedNote | None,
    card_decks: dict[int, str],
    force: bool,
) -> None:
    from notecards.render.compare import shows_the_same  # (justhtml: only for a changed note)

    note = item.note
    changed, kept, conflicting = {}, [], []
    for name, want in item.fields.items():
        if name not in anki_note.fields:
            plan.problems.append(
                Problem.at(
                    note.path,
                    note.start_line,
                    f"Anki's note {anki_note.note_id} ({anki_note.model}) has no field {name!r}; "
                    "that field is not synced",
                    Severity.WARNING,
                )
            )
            continue
        have = anki_note.fields[name]
        last = pushed.fields.get(name) if pushed else None  # digest of the pushed HTML
        if shows_the_same(have, want):  # (what Anki's editor rewrites is no difference)
            continue
        if last is None or field_matches(have, last) or force:
            changed[name] = want
        elif field_matches(want, last):
            kept.append(name)
        else:
            conflicting.append(name)
    if conflicting:
        plan.conflicts.append(Conflict(anki_note.note_id, note.location, tuple(conflicting)))
        if pushed is not None:
            plan.pushed[anki_note.note_id] = pushed
        return
    if kept:
        plan.kept.append(Conflict(anki_note.note_id, note.location, tuple(kept)))
    add_tags, remove_tags = tag_changes(note.tags, anki_note.tags, pushed.tags if pushed else None)
    move = _cards_to_move(note.deck, anki_note.cards, card_decks, pushed)
    update = Update(
        anki_note.note_id, note.location, changed, add_tags, remove_tags, move, note.deck,
        item.because,
    )  # fmt: skip
    if changed or add_tags or remove_tags or move:
        plan.updates.append(update)
    else:
        plan.unchanged += 1
    replaced = {name: field_digest(anki_note.fields[name]) for name in changed}
    # Anki's time as last seen stays (a later one only makes the note looked at once more):
    # a record without one makes the next two-way sync ask every note's time.
    record = pushed_record(item, replaced)
    if pushed is not None:
        record.anki_mod = pushed.anki_mod
    plan.pushed[anki_note.note_id] = record


def pushed_record(item: Rendered, replaced: dict[str, str] | None = None) -> PushedNote:
    """What the state keeps of a rendered note once Anki holds it (`replaced`: what Anki
    held before, per field it updates)."""
    note = item.note
    return PushedNote(
        source_digest=item.source_digest,
        fields={name: field_digest(value) for name, value in item.fields.items()},
        tags=list(note.tags),
        deck=note.deck,
        path=note.path,
        media=[[m.source, m.anki_name] for m in item.media],
        deps=json.dumps(item.deps, separators=(",", ":")) if item.deps else "",
        replaced=replaced or {},
    )


def tag_changes(
    desired: Sequence[str], in_anki: Sequence[str], pushed: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tags to add and remove: only the vault's own changes since the last push.

    Anki compares tags without case. A tag added in Anki is never removed (notecards does not
    manage it); one removed in Anki is not re-added unless the vault added it since.
    """
    have = {t.casefold() for t in in_anki}
    last = {t.casefold() for t in pushed} if pushed is not None else set()
    want = {t.casefold() for t in desired}
    add = tuple(t for t in desired if t.casefold() not in have and t.casefold() not in last)
    remove = tuple(t for t in (pushed or ()) if t.casefold() not in want and t.casefold() in have)
    return add, remove


def _cards_to_move(
    deck: str, cards: Sequence[int], card_decks: dict[int, str], pushed: PushedNote | None
) -> tuple[int, ...]:
    if pushed is not None and pushed.deck == deck:
        return ()  # the vault did not move it: a move made in Anki stays
    return tuple(c for c in cards if c in card_decks and card_decks[c] != deck)


def _plan_deletes(
    plan: Plan,
    deletions: Sequence[Deletion],
    present: set[int],
    state: SyncState,
    vault_ids: set[int],
    prune: bool,
) -> None:
    deleting = set()
    for d in deletions:
        if d.note_id in present and d.note_id not in deleting:
            deleting.add(d.note_id)
            plan.deletes.append(Delete(d.note_id, Location(d.path, d.line), "DELETE line"))
    for note_id, pushed in sorted(state.notes.items()):
        if note_id in vault_ids or note_id in deleting or note_id not in present:
            continue
        if prune:
            reason = "its block is gone (--prune)"
            plan.deletes.append(Delete(note_id, Location(pushed.path), reason))
        else:
            plan.pushed[note_id] = pushed  # remembered, so that a later --prune finds it
            plan.problems.append(
                Problem.at(
                    pushed.path,
                    1,
                    f"note {note_id} was synced from this file but its block is gone; "
                    "`notecards sync --prune` deletes it from Anki",
                    Severity.WARNING,
                )
            )


def _new_decks(plan: Plan, anki_decks: Iterable[str]) -> set[str]:
    have = {d.casefold() for d in anki_decks}
    wanted = {a.block.note.deck for a in plan.adds} | {u.deck for u in plan.updates if u.move_cards}
    return {d for d in wanted if d.casefold() not in have}


def plan_media(
    items: Sequence[SyncNote], state: SyncState, media_hashes: dict[str, str]
) -> list[MediaUpload]:
    uploads: dict[str, MediaUpload] = {}
    for item in items:
        for ref in item.media:
            digest = media_hashes.get(ref.anki_name)
            stored = state.media.get(ref.anki_name)
            if digest is None or (stored is not None and stored.digest == digest):
                continue
            uploads[ref.anki_name] = MediaUpload(ref.anki_name, ref.source, digest)
    return sorted(uploads.values(), key=lambda m: m.anki_name)
