"""Add notes to an Anki on this machine by importing a package, under IDs chosen here.

A real Anki spends about 5 ms on each note `addNotes` adds (5.2 s for 1,000); importing a package
of the same notes takes a fraction of that, and lets notecards choose each note's ID, so a note
sync adds has the guid a `build` package gives it. What the import needs:
- Anki must be able to open the file: the import is tried only for a loopback URL and an Anki
  whose media folder exists here (one in WSL or a container names a folder of its own file
  system), and when it fails all the same (a Flatpak without access to the vault) the new notes
  go through `addNotes` instead (the importer changes nothing when it fails);
- the user's own note types: the package carries copies of Anki's (`package.mirror_model`), so a
  note lands in the user's "Basic", not in a package copy of it; a type Anki lacks comes from the
  vault's definition, as in `build`;
- IDs nobody has: chosen just below the current time (Anki gives a note it creates the current
  time, so it cannot take them meanwhile), among those `findNotes` reports free.
A note Anki would refuse (first field empty, no card, a duplicate of another note's first
field, in Anki or among the new ones) also goes through `addNotes`, whose error says why. New
notes carry the pending tag, so a crash after the import is recovered like any add.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from notecards.ids import new_ids, now_ms
from notecards.model import RenderedNote
from notecards.output import Reporter
from notecards.problems import Problem
from notecards.sync.notes import Rendered
from notecards.targets.ankiconnect import (
    AnkiConnect,
    AnkiConnectError,
    AnkiUnreachableError,
    raise_refused,
)
from notecards.vault import Vault
from notecards.vault.state_dir import IMPORT_PACKAGE

if TYPE_CHECKING:
    import genanki

# IDs are chosen this far below the current time at least (ms): Anki's own new notes are "now".
ID_MARGIN_MS = 1000
_TAG = re.compile(r"<[^>]*>")


@dataclass
class ImportResult:
    added: list[tuple[Rendered, int]] = field(default_factory=list)  # new, under chosen IDs
    restored: list[tuple[Rendered, int]] = field(default_factory=list)  # under their own IDs
    left: list[Rendered] = field(default_factory=list)  # new notes for `addNotes`
    problems: list[Problem] = field(default_factory=list)
    # The `checks` sent after the import in its request, and Anki's answers to them.
    checked: tuple[list[Action], list[tuple[Any, str | None]]] | None = None
    deck_ids: dict[str, int] = field(default_factory=dict)  # the decks created: casefolded


Action = tuple[str, dict[str, Any]]


def import_notes(
    client: AnkiConnect,
    vault: Vault,
    new: Sequence[Rendered],
    restore: Sequence[Rendered],
    pending_tag: str,
    avoid_ids: Collection[int],
    reporter: Reporter,
    checks: Callable[[ImportResult], list[Action]] | None = None,
    decks: Sequence[str] = (),
) -> ImportResult:
    """Import `new` notes under free IDs and `restore` notes under their own (the ID in their
    block), in one package; `avoid_ids`: IDs the vault already uses (never chosen, even where
    Anki lacks them). `checks`: what to ask of the imported notes, sent in the import's own
    `multi` (Anki answers them once the import is done: a round trip fewer), answered in
    `checked`. `decks`: to create first, in the first request (a round trip fewer), their
    ids in `deck_ids`."""
    from notecards.targets.package import PackageWriter  # the package writer, only to add

    if not new and not restore and not decks:
        return ImportResult()
    note_types = sorted({item.note.note_type for item in [*new, *restore]})
    now = now_ms()
    # Twice as many as needed: enough even if Anki holds some of them.
    candidates = new_ids(2 * len(new), set(avoid_ids), now=now - ID_MARGIN_MS)
    first_fields = [_first_field(vault, item) for item in new]
    if decks:
        reporter.info(f"creating {len(decks)} deck(s)")
    anki = _ask_anki(client, decks, note_types, candidates, new, first_fields)
    free = iter(i for i in candidates if i not in anki.taken)
    writer = PackageWriter(vault.config.note_types, vault.root, anki.models, media=False)
    result = ImportResult(deck_ids=anki.deck_ids)
    mod = now // 1000
    seen: set[tuple[str, str]] = set()
    for item, first, addable in zip(new, first_fields, anki.addable, strict=True):
        note_type = item.note.note_type
        key = (note_type, _text(first[1]))
        duplicate = key in seen or (note_type in anki.models and not addable)
        seen.add(key)
        note_id = None if duplicate else next(free, None)
        if note_id is not None and writer.add(
            _rendered(item), note_id, mod, extra_tags=(pending_tag,), require_card=True
        ):
            result.added.append((item, note_id))
        else:
            result.left.append(item)
    for item in restore:
        own_id = item.note.note_id
        if own_id is None:
            raise ValueError(f"{item.note.location}: only a note with an ID can be restored")
        writer.add(_rendered(item), own_id, mod)
        result.restored.append((item, own_id))
    if not result.added and not result.restored:
        return result
    reporter.info(f"importing {len(result.added) + len(result.restored)} note(s) into Anki")
    package = vault.root / IMPORT_PACKAGE  # one name: a killed run leaves no litter
    try:
        writer.write(package, durable=False)  # Anki reads it now, then it is removed
        actions = [("importPackage", {"path": str(package.resolve())})]
        after = checks(result) if checks else []
        answers = client.multi(actions + after)
        raise_refused(actions, answers[:1])
        result.checked = (after, answers[1:])
    except AnkiUnreachableError:
        raise  # the import may have happened: the next run recovers it by the pending tag
    except (AnkiConnectError, OSError) as exc:  # OSError: the package could not be written
        reporter.info(f"Anki could not import a package ({exc}); adding through AnkiConnect")
        problems = [
            Problem(f"note {nid} not restored under its own ID: Anki could not import: {exc}",
                    item.note.location)
            for item, nid in result.restored
        ]  # fmt: skip
        return ImportResult(left=list(new), problems=problems, deck_ids=result.deck_ids)
    finally:
        package.unlink(missing_ok=True)
    return result


@dataclass
class _AnkiSide:
    models: dict[str, genanki.Model]  # Anki's copy of each note type it has
    taken: set[int]  # candidate IDs Anki holds
    addable: list[bool]  # per new note: passes Anki's own duplicate check
    deck_ids: dict[str, int]  # casefolded name -> id, of each deck created


def _ask_anki(
    client: AnkiConnect,
    decks: Sequence[str],
    note_types: Sequence[str],
    candidates: Sequence[int],
    new: Sequence[Rendered],
    first_fields: Sequence[tuple[str, str]],
) -> _AnkiSide:
    """One request: create `decks` (before `canAddNotes`, which needs a note's deck), then
    Anki's note types, which candidate IDs it holds, and `canAddNotes` of each new note
    reduced to its first field: all that Anki's duplicate check looks at."""
    from notecards.targets.package import mirror_model

    actions: list[tuple[str, dict]] = [("createDeck", {"deck": d}) for d in decks]
    actions.append(("modelNamesAndIds", {}))
    for name in note_types:
        actions.append(("modelFieldNames", {"modelName": name}))
        actions.append(("modelTemplates", {"modelName": name}))
    if new:
        actions.append(("findNotes", {"query": "nid:" + ",".join(map(str, candidates))}))
        checks = [
            {"deckName": item.note.deck, "modelName": item.note.note_type,
             "fields": dict([first])}
            for item, first in zip(new, first_fields, strict=True)
        ]  # fmt: skip
        actions.append(("canAddNotes", {"notes": checks}))
    # The model actions fail for a type Anki lacks: the vault's definition is used then.
    answers = client.multi_or_raise(actions, may_fail=("modelFieldNames", "modelTemplates"))
    deck_ids = {d.casefold(): deck_id for d, (deck_id, _) in zip(decks, answers, strict=False)}
    answers = answers[len(decks) :]
    ids = answers[0][0]
    models = {}
    for index, name in enumerate(note_types):
        (fields, field_error), (templates, template_error) = answers[1 + 2 * index : 3 + 2 * index]
        if name in ids and not field_error and not template_error:
            models[name] = mirror_model(ids[name], name, fields, templates)
    if not new:
        return _AnkiSide(models, set(), [], deck_ids)
    addable = answers[-1][0]
    if len(addable) != len(new):
        raise AnkiConnectError(f"canAddNotes answered {len(addable)} values for {len(new)} notes")
    return _AnkiSide(models, set(answers[-2][0]), addable, deck_ids)


def _first_field(vault: Vault, item: Rendered) -> tuple[str, str]:
    """The note's first field: (name, HTML)."""
    name = vault.config.note_types[item.note.note_type].fields[0]
    return name, item.fields.get(name, "")


def _text(html: str) -> str:
    """Roughly what Anki's duplicate check compares: the text, without markup."""
    return html_module.unescape(_TAG.sub("", html)).strip()


def _rendered(item: Rendered) -> RenderedNote:
    return RenderedNote(item.note, item.fields, item.media, item.deps)
