"""A stand-in for Anki + AnkiConnect: the AnkiConnect protocol over a REAL Anki collection.

The add-on is not on any package registry, so the sync tests talk to this server instead. Every
answer follows a recording of Anki 26.9.3 with the 2023 add-on release
(`/work/shared/ankiconnect/transcript.jsonl`): errors are HTTP 200 with `{"result": null, "error":
...}`, a request without `version` gets a bare result, `multi` carries inner errors in its list.
Only the storage is real Anki (`anki.collection.Collection`); the protocol layer is written here.

Switches, so that a client is tested against both kinds of release:
- `default_deck_bug`: every added note lands in `Default` whatever `deckName` says (the recorded
  release with Anki 26.x), with no hint in the answer.
- `addnotes_all_or_nothing`: `addNotes` fails the whole batch with one error and removes the notes
  it had added (newer releases), instead of one id-or-null per note.
- `packages_unreadable`: `importPackage` cannot open any file, as an Anki in a sandbox cannot
  open a path of the machine it runs on; the error is the importer's own.
- `media_dir_elsewhere`: `getMediaDirPath` names a folder this machine does not have, as an Anki
  in WSL or a container does (one in a Flatpak names a real folder, yet may be unable to read
  another one: `packages_unreadable` alone).
- `mod_times`: the release AnkiWeb serves today (25.11.9): `notesInfo` carries each note's `mod`
  and takes a `query`, and `notesModTime` answers; without it, as the recorded 2023 release,
  neither exists (`notesModTime` is an unsupported action).
- `refuse`: action name -> the error it answers instead of running (each inner action of a
  `multi` too), as a real Anki refuses an action it cannot carry out ("Note was not found",
  a deck name it rejects); the one switch that fakes an answer, for the client's error paths.

Costs, for benchmarks (a real Anki's, from the recording): `request_latency_s` per request (25 ms)
and `add_note_s`, the least time one added note takes (the recorded add-on took 5.16 s for one
`addNotes` of 1,000, while this server alone takes about a tenth of that). `importPackage` runs the
very importer the add-on calls, so it costs here what it costs in Anki.

Run alone (a crash test kills a real sync process against it; a benchmark drives it):
    python tests/helpers/ankiconnect_server.py --collection PATH --port N [--key K]
        [--default-deck-bug] [--addnotes-all-or-nothing] [--packages-unreadable]
        [--media-dir-elsewhere] [--latency-ms MS] [--add-note-ms MS] [--durable]
It prints its URL on the first line of stdout, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import fnmatch
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anki.collection import Collection, SearchNode
from anki.errors import NotFoundError
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.models import MODEL_CLOZE
from anki.notes import Note, NoteFieldsCheckResult

if TYPE_CHECKING:  # importing anki.cards before anki.collection is a circular import
    from anki.cards import Card

API_VERSION = 6
DEFAULT_DECK_ID = 1  # where the deck bug files every added note
# The add-on's own wording for a request it cannot serve.
EMPTY_BODY_REPLY = f"AnkiConnect v.{API_VERSION}"
API_KEY_ERROR = "valid api key must be provided"
UNKNOWN_ACTION_ERROR = "unsupported action"


def api_action(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method as callable by name over the wire (helpers stay private)."""
    method.is_api_action = True  # type: ignore[attr-defined]
    return method


class ProtocolError(Exception):
    """A request that is not an AnkiConnect request at all (bad JSON or shape)."""


def parse_request_body(body: bytes) -> dict[str, Any]:
    """JSON-decode and shape-check a request the way the add-on's schema does."""
    try:
        request = json.loads(body.decode("utf-8"))
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError both are
        raise ProtocolError(str(error)) from error
    if not isinstance(request, dict):
        raise ProtocolError(f"{request!r} is not of type 'object'")
    action = request.get("action")
    if not isinstance(action, str) or not action:
        raise ProtocolError("'action' is a required property")
    if "version" in request and type(request["version"]) is not int:
        raise ProtocolError(f"{request['version']!r} is not of type 'integer'")
    if "params" in request and not isinstance(request["params"], dict):
        raise ProtocolError(f"{request['params']!r} is not of type 'object'")
    return request


def error_reply(message: str) -> dict[str, Any]:
    """Every failure, at every API version, has this shape."""
    return {"result": None, "error": message}


def success_reply(version: int, result: Any) -> Any:
    """API version 4 and below (and a request with no version) get the bare result."""
    if version <= 4:
        return result
    return {"result": result, "error": None}


class AnkiConnect:
    """The actions, over one open collection; not thread-safe: callers hold a lock.

    Named `AnkiConnect` on purpose: a parameter an action does not take raises Python's own
    TypeError, whose text then reads exactly like the add-on's
    ("AnkiConnect.deckNames() got an unexpected keyword argument 'bogus'").
    """

    def __init__(
        self,
        col: Collection,
        *,
        api_key: str | None = None,
        default_deck_bug: bool = False,
        addnotes_all_or_nothing: bool = False,
        packages_unreadable: bool = False,
        media_dir_elsewhere: bool = False,
        add_note_s: float = 0.0,
        refuse: dict[str, str] | None = None,
        mod_times: bool = False,
        on_action: Callable[[str], None] | None = None,
        on_answered: Callable[[str], None] | None = None,
    ) -> None:
        self.col = col
        self.refuse = dict(refuse or {})
        self.mod_times = mod_times
        self.api_key = api_key
        self.default_deck_bug = default_deck_bug
        self.addnotes_all_or_nothing = addnotes_all_or_nothing
        self.packages_unreadable = packages_unreadable
        self.media_dir_elsewhere = media_dir_elsewhere
        self.add_note_s = add_note_s
        self.on_action = on_action or (lambda name: None)
        self.on_answered = on_answered or (lambda name: None)

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> Any:
        """Answer one decoded request (also each inner action of `multi`)."""
        name = request.get("action", "")
        version = request.get("version", 4)
        params = request.get("params", {})
        self.on_action(name)
        try:
            reply = self._reply(name, version, params, request.get("key"))
        except Exception as error:  # the add-on turns every failure into an error reply
            reply = error_reply(str(error))
        self.on_answered(name)
        return reply

    def _reply(self, name: str, version: int, params: dict[str, Any], key: object) -> Any:
        # As in the add-on, every request (each inner `multi` action too) carries the key.
        if key != self.api_key:
            raise Exception(API_KEY_ERROR)
        method = getattr(self, name, None)
        if not getattr(method, "is_api_action", False) or (
            name == "notesModTime" and not self.mod_times
        ):
            raise Exception(UNKNOWN_ACTION_ERROR)
        if name in self.refuse:
            raise Exception(self.refuse[name])
        return success_reply(version, method(**params))

    # -- helpers -------------------------------------------------------------------------------

    def _get_note(self, note_id: int) -> Note:
        try:
            return self.col.get_note(note_id)
        except NotFoundError:
            raise NotFoundError(f"Note was not found: {note_id}", None, None, None) from None

    def _get_card(self, card_id: int) -> Card:
        try:
            return self.col.get_card(card_id)
        except NotFoundError:
            raise NotFoundError(f"Card was not found: {card_id}", None, None, None) from None

    def _get_model(self, model_name: str) -> dict[str, Any]:
        model = self.col.models.by_name(model_name)
        if model is None:
            raise Exception(f"model was not found: {model_name}")
        return model

    def _fields_of(self, note: Note) -> dict[str, dict[str, Any]]:
        return {
            field["name"]: {"value": note.fields[field["ord"]], "order": field["ord"]}
            for field in note.note_type()["flds"]
        }

    def _build_note(self, spec: dict[str, Any]) -> tuple[Note, int]:
        """A new, unsaved note and the deck it asks for; raises the add-on's refusals."""
        model = self._get_model(spec["modelName"])
        deck = self.col.decks.by_name(spec["deckName"])
        if deck is None:
            raise Exception(f"deck was not found: {spec['deckName']}")
        note = self.col.new_note(model)
        if "tags" in spec:
            note.tags = list(spec["tags"])
        field_names = self.col.models.field_names(model)
        for name, value in spec["fields"].items():
            # Field names match case-insensitively; unknown names are dropped silently.
            match = next((known for known in field_names if known.lower() == name.lower()), None)
            if match is not None:
                note[match] = value
        options = spec.get("options", {})
        allow_duplicate = options.get("allowDuplicate", False)
        if type(allow_duplicate) is not bool:
            raise Exception('option parameter "allowDuplicate" must be boolean')
        state = self._duplicate_or_empty(note, deck["id"], options)
        if state == NoteFieldsCheckResult.EMPTY:
            raise Exception("cannot create note because it is empty")
        if state == NoteFieldsCheckResult.DUPLICATE and not allow_duplicate:
            raise Exception("cannot create note because it is a duplicate")
        if state not in (NoteFieldsCheckResult.NORMAL, NoteFieldsCheckResult.DUPLICATE):
            raise Exception("cannot create note for unknown reason")
        return note, deck["id"]

    def _duplicate_or_empty(self, note: Note, deck_id: int, options: dict[str, Any]) -> int:
        """Anki's own check, or the add-on's narrower one when a duplicate scope is given."""
        scope_options = options.get("duplicateScopeOptions", {})
        all_models = scope_options.get("checkAllModels", False)
        if options.get("duplicateScope") != "deck" and not all_models:
            return note.fields_check()
        if not note.fields[0].strip():
            return NoteFieldsCheckResult.EMPTY
        deck_ids = None
        if options.get("duplicateScope") == "deck":
            if "deckName" in scope_options:
                scope_deck = self.col.decks.by_name(scope_options["deckName"])
                if scope_deck is None:
                    return NoteFieldsCheckResult.NORMAL
                deck_id = scope_deck["id"]
            deck_ids = {deck_id}
            if scope_options.get("checkChildren", False):
                deck_ids |= {child_id for _, child_id in self.col.decks.children(deck_id)}
        model_ids = [note.mid]
        if all_models:
            model_ids = [entry.id for entry in self.col.models.all_names_and_ids()]
        for model_id in model_ids:
            twin = SearchNode.Dupe(notetype_id=model_id, first_field=note.fields[0])
            for note_id in self.col.find_notes(self.col.build_search_string(SearchNode(dupe=twin))):
                card_decks = self.col.db.list("select did from cards where nid=?", note_id)
                if deck_ids is None or deck_ids.intersection(card_decks):
                    return NoteFieldsCheckResult.DUPLICATE
        return NoteFieldsCheckResult.NORMAL

    # -- miscellaneous -------------------------------------------------------------------------

    @api_action
    def version(self) -> int:
        return API_VERSION

    @api_action
    def multi(self, actions: list[dict[str, Any]]) -> list[Any]:
        return [self.handle(action) for action in actions]

    # -- decks ---------------------------------------------------------------------------------

    @api_action
    def deckNames(self) -> list[str]:
        return [entry.name for entry in self.col.decks.all_names_and_ids()]

    @api_action
    def deckNamesAndIds(self) -> dict[str, int]:
        return {entry.name: entry.id for entry in self.col.decks.all_names_and_ids()}

    @api_action
    def getDecks(self, cards: list[int]) -> dict[str, list[int]]:
        decks: dict[str, list[int]] = {}
        for card_id in cards:
            deck_id = self.col.db.scalar("select did from cards where id=?", card_id)
            decks.setdefault(self.col.decks.get(deck_id)["name"], []).append(card_id)
        return decks

    @api_action
    def createDeck(self, deck: str) -> int:
        return self.col.decks.id(deck)

    @api_action
    def changeDeck(self, cards: list[int], deck: str) -> None:
        self.col.set_deck(cards, self.col.decks.id(deck))

    @api_action
    def deleteDecks(self, decks: list[str], cardsToo: bool = False) -> None:
        if not cardsToo:
            raise Exception(
                "Since Anki 2.1.28 it's not possible to delete decks without deleting cards as well"
            )
        deck_ids = {entry.name: entry.id for entry in self.col.decks.all_names_and_ids()}
        self.col.decks.remove([deck_ids[name] for name in decks if name in deck_ids])

    # -- media ---------------------------------------------------------------------------------

    @api_action
    def storeMediaFile(
        self,
        filename: str,
        data: str | None = None,
        path: str | None = None,
        url: str | None = None,
        skipHash: str | None = None,
        deleteExisting: bool = True,
    ) -> str | None:
        if not (data or path or url):
            raise Exception('You must provide a "data", "path", or "url" field.')
        if data:
            media_data = base64.b64decode(data)
        elif path:
            media_data = Path(path).read_bytes()
        else:
            # The real add-on downloads it; tests must not reach any network.
            raise Exception(f"this test server refuses to download: {url}")
        if skipHash is not None and skipHash == hashlib.md5(media_data).hexdigest():
            return None
        if deleteExisting:
            self.deleteMediaFile(filename)
        return self.col.media.write_data(filename, media_data)

    @api_action
    def retrieveMediaFile(self, filename: str) -> str | bool:
        # Only a name inside the media folder: the add-on strips any directory part.
        name = unicodedata.normalize("NFC", os.path.basename(filename))
        path = Path(self.col.media.dir()) / name
        if not path.exists():
            return False
        return base64.b64encode(path.read_bytes()).decode("ascii")

    @api_action
    def getMediaFilesNames(self, pattern: str = "*") -> list[str]:
        return sorted(fnmatch.filter(os.listdir(self.col.media.dir()), pattern))

    @api_action
    def deleteMediaFile(self, filename: str) -> None:
        self.col.media.trash_files([filename])

    @api_action
    def getMediaDirPath(self) -> str:
        path = os.path.abspath(self.col.media.dir())
        return "/nonexistent" + path if self.media_dir_elsewhere else path

    # -- notes ---------------------------------------------------------------------------------

    @api_action
    def addNote(self, note: dict[str, Any]) -> int:
        start = time.perf_counter()
        try:
            return self._add_note(note)
        finally:
            time.sleep(max(0.0, self.add_note_s - (time.perf_counter() - start)))

    def _add_note(self, note: dict[str, Any]) -> int:
        anki_note, deck_id = self._build_note(note)
        if self.default_deck_bug:
            deck_id = DEFAULT_DECK_ID
        self.col.add_note(anki_note, deck_id)
        if not anki_note.cards():
            raise Exception(
                "The field values you have provided would make an empty question on all cards."
            )
        return anki_note.id

    @api_action
    def addNotes(self, notes: list[dict[str, Any]]) -> list[int | None]:
        if self.addnotes_all_or_nothing:
            return self._add_notes_all_or_nothing(notes)
        results: list[int | None] = []
        for spec in notes:
            try:
                results.append(self.addNote(spec))
            except Exception:
                results.append(None)
        return results

    def _add_notes_all_or_nothing(self, notes: list[dict[str, Any]]) -> list[int]:
        """Newer releases: gather every note's error, then undo the adds that worked."""
        added: list[int] = []
        errors: list[str] = []
        for spec in notes:
            try:
                added.append(self.addNote(spec))
            except Exception as error:
                errors.append(str(error))
        if errors:
            self.col.remove_notes(added)
            raise Exception(str(errors))
        return added

    @api_action
    def canAddNote(self, note: dict[str, Any]) -> bool:
        try:
            self._build_note(note)
        except Exception:
            return False
        return True

    @api_action
    def canAddNotes(self, notes: list[dict[str, Any]]) -> list[bool]:
        return [self.canAddNote(spec) for spec in notes]

    @api_action
    def updateNoteFields(self, note: dict[str, Any]) -> None:
        anki_note = self._get_note(note["id"])
        for name, value in note["fields"].items():
            if name in anki_note:
                anki_note[name] = value
        self.col.update_note(anki_note)

    @api_action
    def updateNote(self, note: dict[str, Any]) -> None:
        if "fields" not in note and "tags" not in note:
            raise Exception('Must provide a "fields" or "tags" property.')
        if "fields" in note:
            self.updateNoteFields(note)
        if "tags" in note:
            self.updateNoteTags(note["id"], note["tags"])

    @api_action
    def updateNoteTags(self, note: int, tags: list[str] | str) -> None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise Exception("Must provide tags as a list of strings")
        anki_note = self._get_note(note)
        anki_note.tags = tags
        self.col.update_note(anki_note)

    @api_action
    def getNoteTags(self, note: int) -> list[str]:
        return list(self._get_note(note).tags)

    @api_action
    def addTags(self, notes: list[int], tags: str, add: bool = True) -> None:
        if add:
            self.col.tags.bulk_add(notes, tags)
        else:
            self.col.tags.bulk_remove(notes, tags)

    @api_action
    def removeTags(self, notes: list[int], tags: str) -> None:
        self.addTags(notes, tags, False)

    @api_action
    def getTags(self) -> list[str]:
        return self.col.tags.all()

    @api_action
    def findNotes(self, query: str | None = None) -> list[int]:
        return [] if query is None else [int(nid) for nid in self.col.find_notes(query)]

    @api_action
    def notesInfo(
        self, notes: list[int] | None = None, query: str | None = None
    ) -> list[dict[str, Any]]:
        if query is not None and self.mod_times:
            notes = self.findNotes(query)
        if notes is None:
            raise Exception('Must provide either "notes" or a "query"')
        infos: list[dict[str, Any]] = []
        for note_id in notes:
            try:
                note = self._get_note(note_id)
            except NotFoundError:
                infos.append({})  # keeps answers aligned with the ids asked for
                continue
            infos.append(
                {
                    "noteId": note.id,
                    "tags": list(note.tags),
                    "fields": self._fields_of(note),
                    "modelName": note.note_type()["name"],
                    "cards": self.col.db.list(
                        "select id from cards where nid = ? order by ord", note.id
                    ),
                    **({"mod": note.mod} if self.mod_times else {}),
                }
            )
        return infos

    @api_action
    def notesModTime(self, notes: list[int]) -> list[dict[str, Any]]:
        """Each note's modification time (seconds), `{}` for one that does not exist."""
        times: list[dict[str, Any]] = []
        for note_id in notes:
            try:
                note = self._get_note(note_id)
            except NotFoundError:
                times.append({})
                continue
            times.append({"noteId": note.id, "mod": note.mod})
        return times

    @api_action
    def sync(self) -> None:
        """A collection with no AnkiWeb account, as the add-on answers for one: 25.11 refuses;
        the 2023 release answers success (and the desktop opens its own sync window)."""
        if self.mod_times:
            raise Exception("sync: auth not configured")

    @api_action
    def deleteNotes(self, notes: list[int]) -> None:
        self.col.remove_notes(notes)

    @api_action
    def cardsToNotes(self, cards: list[int]) -> list[int]:
        placeholders = ",".join("?" * len(cards))
        return self.col.db.list(
            f"select distinct nid from cards where id in ({placeholders})", *cards
        )

    # -- cards ---------------------------------------------------------------------------------

    @api_action
    def findCards(self, query: str | None = None) -> list[int]:
        return [] if query is None else [int(cid) for cid in self.col.find_cards(query)]

    @api_action
    def cardsInfo(self, cards: list[int]) -> list[dict[str, Any]]:
        infos: list[dict[str, Any]] = []
        for card_id in cards:
            try:
                card = self._get_card(card_id)
            except NotFoundError:
                infos.append({})
                continue
            model = card.note_type()
            infos.append(
                {
                    "cardId": card.id,
                    "fields": self._fields_of(card.note()),
                    "fieldOrder": card.ord,
                    "question": card.question(),
                    "answer": card.answer(),
                    "modelName": model["name"],
                    "ord": card.ord,
                    "deckName": self.col.decks.name(card.did),
                    "css": model["css"],
                    "factor": card.factor,
                    "interval": card.ivl,
                    "note": card.nid,
                    "type": card.type,
                    "queue": card.queue,
                    "due": card.due,
                    "reps": card.reps,
                    "lapses": card.lapses,
                    "left": card.left,
                    "mod": card.mod,
                }
            )
        return infos

    @api_action
    def suspended(self, card: int) -> bool:
        return self._get_card(card).queue == -1

    @api_action
    def areSuspended(self, cards: list[int]) -> list[bool | None]:
        answers: list[bool | None] = []
        for card_id in cards:
            try:
                answers.append(self.suspended(card_id))
            except NotFoundError:
                answers.append(None)
        return answers

    # -- models --------------------------------------------------------------------------------

    @api_action
    def modelNames(self) -> list[str]:
        return [entry.name for entry in self.col.models.all_names_and_ids()]

    @api_action
    def modelNamesAndIds(self) -> dict[str, int]:
        return {entry.name: entry.id for entry in self.col.models.all_names_and_ids()}

    @api_action
    def modelFieldNames(self, modelName: str) -> list[str]:
        return [field["name"] for field in self._get_model(modelName)["flds"]]

    @api_action
    def modelTemplates(self, modelName: str) -> dict[str, dict[str, str]]:
        return {
            template["name"]: {"Front": template["qfmt"], "Back": template["afmt"]}
            for template in self._get_model(modelName)["tmpls"]
        }

    @api_action
    def modelStyling(self, modelName: str) -> dict[str, str]:
        return {"css": self._get_model(modelName)["css"]}

    @api_action
    def createModel(
        self,
        modelName: str,
        inOrderFields: list[str],
        cardTemplates: list[dict[str, str]],
        css: str | None = None,
        isCloze: bool = False,
    ) -> dict[str, Any]:
        if not inOrderFields:
            raise Exception("Must provide at least one field for inOrderFields")
        if not cardTemplates:
            raise Exception("Must provide at least one card for cardTemplates")
        models = self.col.models
        if models.id_for_name(modelName) is not None:
            raise Exception("Model name already exists")
        model = models.new(modelName)
        if isCloze:
            model["type"] = MODEL_CLOZE
        for field_name in inOrderFields:
            models.add_field(model, models.new_field(field_name))
        if css is not None:
            model["css"] = css
        for number, card in enumerate(cardTemplates, start=1):
            template = models.new_template(card.get("Name", f"Card {number}"))
            template["qfmt"] = card["Front"]
            template["afmt"] = card["Back"]
            models.add_template(model, template)
        models.add(model)
        return model

    # -- packages ------------------------------------------------------------------------------

    @api_action
    def importPackage(self, path: str) -> bool:
        if self.packages_unreadable:
            path = "/nonexistent" + path  # what a sandbox sees of our file system
        # The add-on calls anki.importing.AnkiPackageImporter, which in Anki 26.9 is this call
        # with these options.
        options = ImportAnkiPackageOptions(
            merge_notetypes=True, with_scheduling=True, with_deck_configs=True
        )
        self.col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options))
        return True


class AnkiConnectServer:
    """The protocol on 127.0.0.1 at a free port, in a background thread, over one collection.

    One lock serialises every use of the collection (Anki's collection is not thread-safe):
    requests, and tests that look inside through `collection()`.
    """

    def __init__(
        self,
        collection_path: Path | str,
        *,
        port: int = 0,
        api_key: str | None = None,
        default_deck_bug: bool = False,
        addnotes_all_or_nothing: bool = False,
        packages_unreadable: bool = False,
        media_dir_elsewhere: bool = False,
        request_latency_s: float = 0.0,
        add_note_s: float = 0.0,
        durable: bool = False,
        refuse: dict[str, str] | None = None,
        mod_times: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        # Bind first: a taken port then fails before the collection is open (and left open).
        self._http = ThreadingHTTPServer(("127.0.0.1", port), self._make_handler())
        self._http.daemon_threads = True
        Path(collection_path).parent.mkdir(parents=True, exist_ok=True)
        self._col = Collection(str(collection_path))
        if not durable:
            # 10x faster adds. A killed process still loses nothing; only a power cut could.
            self._col.db.execute("pragma synchronous = off")
        # Real Anki spends ~25 ms per request; a benchmark can ask for that cost here.
        self.request_latency_s = request_latency_s
        self.requests = 0
        self.actions: collections.Counter[str] = collections.Counter()
        self._after: dict[str, list[Callable[[Collection], None]]] = {}
        self._api = AnkiConnect(
            self._col,
            api_key=api_key,
            default_deck_bug=default_deck_bug,
            addnotes_all_or_nothing=addnotes_all_or_nothing,
            packages_unreadable=packages_unreadable,
            media_dir_elsewhere=media_dir_elsewhere,
            add_note_s=add_note_s,
            refuse=refuse,
            mod_times=mod_times,
            on_action=self._count_action,
            on_answered=self._run_after,
        )
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AnkiConnectServer:
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, then close the collection; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()
        with self._lock:
            self._col.close()

    def __enter__(self) -> AnkiConnectServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def collection(self) -> Iterator[Collection]:
        """The live collection, held under the server's lock for the `with` block."""
        with self._lock:
            yield self._col

    def _count_action(self, name: str) -> None:
        self.actions[name] += 1

    def after_answer(self, action: str, change: Callable[[Collection], None]) -> None:
        """Run `change` on the collection once, right after the next `action` (each inner
        action of a `multi` too) is answered, before the answer is sent: what a person does
        in Anki between the add-on's read and the client's next request (an edit within the
        second a note's time was read keeps that time)."""
        with self._lock:
            self._after.setdefault(action, []).append(change)

    def _run_after(self, name: str) -> None:
        for change in self._after.pop(name, []):
            change(self._col)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = 0
            self.actions.clear()

    def answer(self, body: bytes) -> bytes:
        """The response body for one HTTP request body (what the handler sends back)."""
        with self._lock:
            self.requests += 1
            time.sleep(self.request_latency_s)
            if not body:
                return EMPTY_BODY_REPLY.encode()
            try:
                request = parse_request_body(body)
            except ProtocolError as error:
                return json.dumps(error_reply(str(error))).encode()
            return json.dumps(self._api.handle(request)).encode()

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # As the add-on answers: HTTP/1.1, no `Connection: close`, and the socket closed
            # after each answer (a client that keeps the connection alive gets resets).
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._send(server.answer(self.rfile.read(length)))

            def do_GET(self) -> None:
                self._send(server.answer(b""))

            def _send(self, payload: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # tests read counts, not an access log

        return Handler


@dataclass
class ServerProcess:
    """The server in a child process: something a crash test can kill a real sync against."""

    url: str
    collection_path: Path
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, collection_path: Path, *options: str) -> ServerProcess:
        """Start `python tests/helpers/ankiconnect_server.py` and wait for the URL it prints."""
        command = [sys.executable, str(Path(__file__).resolve())]
        command += ["--collection", str(collection_path), *options]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            process.kill()
            process.wait()
            raise RuntimeError(f"the AnkiConnect test server did not start: {command}")
        return cls(url, Path(collection_path), process)

    def stop(self) -> None:
        """Ask it to close its collection and exit; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def main(argv: list[str] | None = None) -> None:
    """Serve one collection until SIGINT/SIGTERM; print the URL first so a caller can connect."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", required=True, help="path of the .anki2 file")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--key", default=None, help="API key every request must carry")
    parser.add_argument("--default-deck-bug", action="store_true")
    parser.add_argument("--addnotes-all-or-nothing", action="store_true")
    parser.add_argument("--packages-unreadable", action="store_true")
    parser.add_argument("--media-dir-elsewhere", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--add-note-ms", type=float, default=0.0, help="least time per added note")
    parser.add_argument("--durable", action="store_true", help="fsync every commit, like Anki")
    parser.add_argument("--mod-times", action="store_true", help="as the 25.11.9 release")
    args = parser.parse_args(argv)
    server = AnkiConnectServer(
        args.collection,
        port=args.port,
        api_key=args.key,
        default_deck_bug=args.default_deck_bug,
        addnotes_all_or_nothing=args.addnotes_all_or_nothing,
        packages_unreadable=args.packages_unreadable,
        media_dir_elsewhere=args.media_dir_elsewhere,
        request_latency_s=args.latency_ms / 1000,
        add_note_s=args.add_note_ms / 1000,
        durable=args.durable,
        mod_times=args.mod_times,
    )
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    server.start()
    print(server.url, flush=True)
    stop_requested.wait()
    server.stop()


if __name__ == "__main__":
    main()
