"""Push a planned change into Anki through AnkiConnect: decks, adds, updates, deletes.

run.py decides what happens and in which order; each kind of change here is one small function
that batches its requests and returns what Anki refused as problems. None of them writes the
vault's markdown or the recovery journal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from notecards.output import Reporter
from notecards.problems import Location, Problem
from notecards.sync.importer import Action, ImportResult, import_notes
from notecards.sync.notes import Rendered
from notecards.sync.plan import Add, Plan
from notecards.targets.ankiconnect import AnkiConnect, AnkiConnectError, NewNote, raise_refused
from notecards.vault import Vault

# Adds go in batches this big, one request each: Anki answers AnkiConnect on its main thread
# and freezes while it works (a batch costs a real Anki about 1.3 s).
ADD_BATCH = 250


def multi_problems(
    client: AnkiConnect,
    actions: list[Action],
    owners: Sequence[Location | None],
) -> list[Problem]:
    """Send `actions` in one `multi`; each refusal as a problem at its action's owner (a note's
    place in the vault, or None for an action that belongs to no one note)."""
    return refusals(actions, client.multi(actions), owners)


def refusals(
    actions: Sequence[Action],
    answers: Sequence[tuple[Any, str | None]],
    owners: Sequence[Location | None],
) -> list[Problem]:
    """multi_problems' problems, of `actions` answered in a `multi` (beside others)."""
    return [
        Problem(f"{name}: {error}", owner)
        for (name, _), owner, (_, error) in zip(actions, owners, answers, strict=True)
        if error
    ]


def create_decks(client: AnkiConnect, decks: Sequence[str], reporter: Reporter) -> dict[str, int]:
    """Create `decks` in one `multi`; casefolded name -> new deck id."""
    if not decks:
        return {}
    reporter.info(f"creating {len(decks)} deck(s)")
    answers = client.multi_or_raise([("createDeck", {"deck": d}) for d in decks])
    return {deck.casefold(): deck_id for deck, (deck_id, _) in zip(decks, answers, strict=True)}


@dataclass
class Added:
    """The notes Anki took: through `addNotes` (Anki chose the IDs), and by importing a package
    (under IDs chosen here, or under their own)."""

    through_add_notes: list[tuple[Rendered, int]] = field(default_factory=list)
    imported: ImportResult = field(default_factory=ImportResult)
    problems: list[Problem] = field(default_factory=list)


def by_import(local: bool, journal: Sequence[Add], restore: Sequence[Add]) -> bool:
    """Whether `add` adds by package import (and so creates the new decks in its first
    request): with Anki on this machine, when there is a note to add or re-create."""
    return local and bool(journal or restore)


def add(
    client: AnkiConnect,
    vault: Vault,
    journal: list[Add],
    restore: list[Add],
    tag: str,
    reporter: Reporter,
    *,
    local: bool,
    deck_ids: dict[str, int],
    new_decks: Sequence[str] = (),
) -> Added:
    """Add the journaled notes, each tagged with the pending `tag`, and re-create the `restore`
    ones under their own IDs.

    With Anki on this machine (`local`), one package import does it (importer.py): the
    `new_decks` (given only then) are created in its first request, and fix_decks' question
    goes in the import's; what the import cannot take goes through `addNotes`. `deck_ids`:
    casefolded deck name -> id, of every deck the notes go to but the `new_decks`, whose
    ids come back in `Added.imported.deck_ids`."""
    result = Added()
    left = [a.block for a in journal]
    if by_import(local, journal, restore):
        avoid = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
        restored = [a.block for a in restore]

        def checks(imported: ImportResult) -> list[Action]:
            every_deck = {**deck_ids, **imported.deck_ids}
            return _deck_checks(Added(imported=imported), every_deck, tag)[1]

        result.imported = import_notes(
            client, vault, left, restored, tag, avoid, reporter, checks, new_decks
        )
        result.problems += result.imported.problems
        left = list(result.imported.left)
    result.through_add_notes, problems = _add_notes(client, left, tag, reporter)
    result.problems += problems
    return result


def _add_notes(
    client: AnkiConnect, notes: list[Rendered], tag: str, reporter: Reporter
) -> tuple[list[tuple[Rendered, int]], list[Problem]]:
    """Add notes through `addNotes`, in batches; (note, new id) per success, and the problems."""
    if not notes:
        return [], []
    reporter.info(f"adding {len(notes)} note(s)")
    added: list[tuple[Rendered, int]] = []
    problems: list[Problem] = []
    for start in range(0, len(notes), ADD_BATCH):
        batch_added, refused = _add_batch(client, notes[start : start + ADD_BATCH], tag)
        added += batch_added
        problems += refused
        reporter.info(f"added {len(added)}/{len(notes)}")
    return added, problems


def _add_batch(
    client: AnkiConnect, batch: list[Rendered], tag: str
) -> tuple[list[tuple[Rendered, int]], list[Problem]]:
    notes = [
        NewNote(
            deck=item.note.deck,
            model=item.note.note_type,
            fields=item.fields,
            tags=(*item.note.tags, tag),
        )
        for item in batch
    ]
    result = client.add_notes(notes)
    added, problems = [], []
    for item, nid, error in zip(batch, result.ids, result.errors, strict=True):
        if nid is None:
            problems.append(Problem(f"Anki refused the note: {error}", item.note.location))
        else:
            added.append((item, nid))
    return added, problems


def fix_decks(
    client: AnkiConnect, added: Added, deck_ids: dict[str, int], tag: str
) -> tuple[set[int], list[Problem]]:
    """Some add-on releases file every new card in Default: look, and move the ones misfiled.

    One request asks, per deck, for the new cards not in it (`did:` excludes subdecks), and
    whether the imported notes are there under the IDs chosen for them; a second one moves cards
    only if some are misfiled. Returns the new notes' ids Anki really has: an imported note Anki
    filed under another ID stays journaled, so the next run finds it by its pending tag.
    Where the import's request asked the very same (no note went through `addNotes`), its
    answers are taken and the first request is not sent."""
    imported = added.imported
    decks, actions = _deck_checks(added, deck_ids, tag)
    if not actions:
        return set(), []
    if imported.checked is not None and imported.checked[0] == actions:
        answers = imported.checked[1]
        raise_refused(actions, answers)
    else:
        answers = client.multi_or_raise(actions)
    present = {nid for _, nid in added.through_add_notes}
    for found, _ in answers[len(decks) :]:
        present.update(found)
    problems = [
        Problem(f"Anki did not keep note {nid}; run sync again", item.note.location)
        for item, nid in imported.added + imported.restored
        if nid not in present
    ]
    misfiled = [(d, cards) for d, (cards, _) in zip(decks, answers, strict=False) if cards]
    moves = [("changeDeck", {"cards": c, "deck": d}) for d, c in misfiled]
    problems += multi_problems(client, moves, [None] * len(moves))
    return present, problems


def _deck_checks(
    added: Added, deck_ids: dict[str, int], tag: str
) -> tuple[list[str], list[Action]]:
    """fix_decks' question: the decks of the new notes, and per deck a `findCards` of its new
    cards filed elsewhere, then a `findNotes` per group of imported notes, of those Anki has."""
    imported = added.imported
    notes_in: dict[str, list[int]] = defaultdict(list)
    for item, nid in added.through_add_notes + imported.added + imported.restored:
        notes_in[item.note.deck].append(nid)
    decks = sorted(notes_in)
    actions = [
        ("findCards", {"query": f"nid:{_ids(notes_in[d])} -did:{deck_ids[d.casefold()]}"})
        for d in decks
    ]
    checks = [(group, query) for group, query in (
        (imported.added, f"tag:{tag} nid:"),
        (imported.restored, "nid:"),
    ) if group]  # fmt: skip
    actions += [("findNotes", {"query": query + _ids([n for _, n in g])}) for g, query in checks]
    return decks, actions


def _ids(note_ids: Sequence[int]) -> str:
    return ",".join(map(str, note_ids))


def update(client: AnkiConnect, plan: Plan, reporter: Reporter) -> list[Problem]:
    """Fields, tags and decks of existing notes, in one `multi`."""
    if not plan.updates:
        return []
    reporter.info(f"updating {len(plan.updates)} note(s)")
    actions: list[Action] = []
    owners: list[Location | None] = []
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
            owners.append(None)  # one request for every note with the tag
    moves: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        moves[u.deck].extend(u.move_cards)
    for deck, cards in moves.items():
        if cards:
            actions.append(("changeDeck", {"cards": cards, "deck": deck}))
            owners.append(None)
    return multi_problems(client, actions, owners)


def _by_tag(plan: Plan, add: bool) -> dict[str, list[int]]:
    """tag -> notes: one addTags/removeTags per tag, whatever the number of notes."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for u in plan.updates:
        for tag in u.add_tags if add else u.remove_tags:
            grouped[tag].append(u.note_id)
    return grouped


def delete(client: AnkiConnect, plan: Plan) -> list[Problem]:
    """The planned deletions, in one request; empty when Anki deleted them all."""
    if not plan.deletes:
        return []
    try:
        client.invoke("deleteNotes", notes=[d.note_id for d in plan.deletes])
    except AnkiConnectError as exc:
        return [Problem(str(exc))]
    return []
