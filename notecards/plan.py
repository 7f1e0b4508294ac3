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

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from notecards.model import Deletion, MediaRef, Note, Problem, Severity, shown_path
from notecards.state import PushedNote, SyncState, value_hash
from notecards.targets.ankiconnect import AnkiNote


@dataclass
class Target:
    """A vault note as Anki should hold it.

    `fields` is None when the note was not rendered because its source is unchanged since
    the last push (and Anki still has it): nothing about it can have changed in the vault.
    """

    note: Note
    source_hash: str
    fields: dict[str, str] | None
    media: tuple[MediaRef, ...] = ()
    deps: tuple[Sequence[str], ...] = ()  # what its links and embeds resolved to (render.py)


@dataclass(frozen=True)
class Add:
    """A note to add; a new block (no ID yet) may be rendered only while the adds are sent."""

    target: Target
    replaces: int | None = None  # the note id in the file that Anki no longer has
    # Re-created under its own ID (by importing a package): an ID this Anki never had from
    # notecards. A note deleted in Anki gets a new ID instead (its old one is in Anki's graves).
    restore: bool = False


@dataclass(frozen=True)
class Update:
    """One existing note: only what changes."""

    note_id: int
    where: str
    fields: dict[str, str] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    move_cards: tuple[int, ...] = ()
    deck: str = ""


@dataclass(frozen=True)
class Delete:
    note_id: int
    where: str
    reason: str


@dataclass(frozen=True)
class Conflict:
    note_id: int
    where: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MediaUpload:
    anki_name: str
    source: str
    sha256: str


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

    def is_empty(self) -> bool:
        return not (self.decks or self.adds or self.updates or self.deletes or self.media)

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

    def lines(self, prefix: str = "", *, notices_only: bool = False) -> list[str]:
        """Per note, `path:line: what changes` (the --dry-run listing); paths under `prefix`.

        `notices_only`: just what a user must hear after a sync ran (recreated notes,
        conflicts, Anki-side edits kept); the routine changes are in the summary counts.
        """
        at = partial(shown_path, prefix)
        routine = not notices_only
        out = [f"create deck {d}" for d in self.decks if routine]
        for a in self.adds:
            where = at(a.target.note.where)
            if a.replaces is None and routine:
                out.append(f"{where}: add ({a.target.note.deck})")
            elif a.restore and routine:
                out.append(f"{where}: restore note {a.replaces} (not in Anki)")
            elif a.replaces is not None and not a.restore:
                out.append(f"{where}: recreate (note {a.replaces} is gone from Anki)")
        if routine:
            for u in self.updates:
                out.append(f"{at(u.where)}: note {u.note_id}: {', '.join(_describe(u))}")
            out += [f"{at(d.where)}: delete note {d.note_id} ({d.reason})" for d in self.deletes]
            out += [f"store media {m.anki_name} (from {m.source})" for m in self.media]
        out += [
            f"{at(c.where)}: conflict: note {c.note_id} changed in Anki and in the vault "
            f"({', '.join(c.fields)}); left alone (--force pushes the vault's version)"
            for c in self.conflicts
        ]
        out += [
            f"{at(k.where)}: note {k.note_id}: kept the edit made in Anki ({', '.join(k.fields)})"
            for k in self.kept
        ]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "decks": self.decks,
            "add": [
                {
                    "where": a.target.note.where,
                    "deck": a.target.note.deck,
                    "replaces": a.replaces,
                    "keeps_id": a.restore,
                }
                for a in self.adds
            ],
            "update": [
                {
                    "where": u.where,
                    "note_id": u.note_id,
                    "fields": sorted(u.fields),
                    "add_tags": list(u.add_tags),
                    "remove_tags": list(u.remove_tags),
                    "deck": u.deck if u.move_cards else None,
                }
                for u in self.updates
            ],
            "delete": [
                {"where": d.where, "note_id": d.note_id, "reason": d.reason} for d in self.deletes
            ],
            "media": [m.anki_name for m in self.media],
            "conflicts": [
                {"where": c.where, "note_id": c.note_id, "fields": list(c.fields)}
                for c in self.conflicts
            ],
            "problems": [p.format() for p in self.problems],
        }


def _describe(update: Update) -> list[str]:
    parts = []
    if update.fields:
        parts.append("fields " + ", ".join(sorted(update.fields)))
    if update.add_tags:
        parts.append("tags +" + " +".join(update.add_tags))
    if update.remove_tags:
        parts.append("tags -" + " -".join(update.remove_tags))
    if update.move_cards:
        parts.append(f"move {len(update.move_cards)} card(s) to {update.deck}")
    return parts


def source_hash(note: Note, fingerprint: str) -> str:
    """What a note's rendering depends on: its text, type, tags, deck, and the settings.

    Neither its ID nor its line: moving a block or writing its ID does not change it.
    """
    # repr of strings, a tuple and a dict is exact and deterministic, and 5x quicker than JSON.
    payload = repr((note.note_type, note.fields, tuple(note.tags), note.deck, note.appendix))
    return hashlib.blake2b(f"{payload}\0{fingerprint}".encode(), digest_size=16).hexdigest()


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
        or pushed.source_hash != digest
        or pushed.deps is None
        or not links_hold(pushed, note.path)
    )


def needs_deck_check(note: Note, state: SyncState) -> bool:
    """Whether to ask Anki where the note's cards are (only if the vault moved it, or no record)."""
    pushed = state.notes.get(note.note_id) if note.note_id is not None else None
    return pushed is None or pushed.deck != note.deck


def make_plan(
    targets: Sequence[Target],
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
) -> Plan:
    """Everything that must change in Anki for it to match the vault.

    `anki` holds what Anki has for every rendered note (`Target.fields` set); `present` is
    every id Anki has among those the vault and the state name (default: `anki`'s ids).
    `card_decks` covers the cards of the notes for which `needs_deck_check` is true;
    `media_hashes` maps an Anki media name to the sha256 of the vault file it comes from;
    `restore_ids` lets a note whose ID Anki lacks, and never had from notecards, keep its ID.
    """
    plan = Plan()
    present = set(anki) if present is None else present
    vault_ids = set()
    for target in targets:
        note = target.note
        pushed = state.notes.get(note.note_id) if note.note_id is not None else None
        if note.note_id is None or note.note_id not in present:
            if target.fields is None and note.note_id is not None:
                raise ValueError(f"{note.where}: a note Anki lost must be rendered first")
            restore = restore_ids and note.note_id is not None and pushed is None
            plan.adds.append(Add(target, note.note_id, restore))
            continue
        vault_ids.add(note.note_id)
        if target.fields is None:
            plan.unchanged += 1  # unchanged in the vault: Anki's copy stays as it is
            plan.pushed[note.note_id] = pushed  # type: ignore[assignment]
            continue
        _plan_existing(plan, target, anki[note.note_id], pushed, card_decks, force)
    _plan_deletes(plan, deletions, present, state, vault_ids, prune)
    plan.decks = sorted(_new_decks(plan, anki_decks))
    plan.media = plan_media(targets, state, media_hashes or {})
    return plan


def _plan_existing(
    plan: Plan,
    target: Target,
    anki_note: AnkiNote,
    pushed: PushedNote | None,
    card_decks: dict[int, str],
    force: bool,
) -> None:
    note = target.note
    changed, kept, conflicting = {}, [], []
    for name, want in target.fields.items():  # type: ignore[union-attr]
        if name not in anki_note.fields:
            plan.problems.append(
                Problem(
                    note.path,
                    note.start_line,
                    f"Anki's note {anki_note.note_id} ({anki_note.model}) has no field {name!r}; "
                    "that field is not synced",
                    Severity.WARNING,
                )
            )
            continue
        have = anki_note.fields[name]
        last = pushed.fields.get(name) if pushed else None  # value_hash of the pushed HTML
        if have == want:
            continue
        if last is None or value_hash(have) == last or force:
            changed[name] = want
        elif value_hash(want) == last:
            kept.append(name)
        else:
            conflicting.append(name)
    if conflicting:
        plan.conflicts.append(Conflict(anki_note.note_id, note.where, tuple(conflicting)))
        if pushed is not None:
            plan.pushed[anki_note.note_id] = pushed
        return
    if kept:
        plan.kept.append(Conflict(anki_note.note_id, note.where, tuple(kept)))
    add_tags, remove_tags = tag_changes(note.tags, anki_note.tags, pushed.tags if pushed else None)
    move = _cards_to_move(note.deck, anki_note.cards, card_decks, pushed)
    update = Update(anki_note.note_id, note.where, changed, add_tags, remove_tags, move, note.deck)
    if changed or add_tags or remove_tags or move:
        plan.updates.append(update)
    else:
        plan.unchanged += 1
    plan.pushed[anki_note.note_id] = pushed_record(target)


def pushed_record(target: Target) -> PushedNote:
    """What the state keeps of a rendered target once Anki holds it."""
    note = target.note
    return PushedNote(
        source_hash=target.source_hash,
        fields={name: value_hash(value) for name, value in (target.fields or {}).items()},
        tags=list(note.tags),
        deck=note.deck,
        path=note.path,
        media=[[m.source, m.anki_name] for m in target.media],
        deps=json.dumps(target.deps, separators=(",", ":")) if target.deps else "",
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
            plan.deletes.append(Delete(d.note_id, f"{d.path}:{d.line}", "DELETE line"))
    for note_id, pushed in sorted(state.notes.items()):
        if note_id in vault_ids or note_id in deleting or note_id not in present:
            continue
        if prune:
            plan.deletes.append(Delete(note_id, pushed.path, "its block is gone (--prune)"))
        else:
            plan.pushed[note_id] = pushed  # remembered, so that a later --prune finds it
            plan.problems.append(
                Problem(
                    pushed.path,
                    1,
                    f"note {note_id} was synced from this file but its block is gone; "
                    "`notecards sync --prune` deletes it from Anki",
                    Severity.WARNING,
                )
            )


def _new_decks(plan: Plan, anki_decks: Iterable[str]) -> set[str]:
    have = {d.casefold() for d in anki_decks}
    wanted = {a.target.note.deck for a in plan.adds} | {
        u.deck for u in plan.updates if u.move_cards
    }
    return {d for d in wanted if d.casefold() not in have}


def plan_media(
    targets: Sequence[Target], state: SyncState, media_hashes: dict[str, str]
) -> list[MediaUpload]:
    uploads: dict[str, MediaUpload] = {}
    for target in targets:
        for ref in target.media:
            digest = media_hashes.get(ref.anki_name)
            stored = state.media.get(ref.anki_name)
            if digest is None or (stored is not None and stored.sha256 == digest):
                continue
            uploads[ref.anki_name] = MediaUpload(ref.anki_name, ref.source, digest)
    return sorted(uploads.values(), key=lambda m: m.anki_name)
