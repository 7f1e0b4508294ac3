"""A small AnkiConnect (API version 6) client: it takes notes, and knows nothing about markdown.

Written against a recording of a real Anki with the add-on: every error
comes back as HTTP 200 with `{"result": null, "error": "..."}`, `multi` returns inner errors in
its list, and `addNotes` either answers one id or null per note (older add-on) or fails the whole
batch with one error (newer add-on). Only the configured URL is ever contacted: no proxies from
the environment, no redirects, and media always travels as data (never a `url` for Anki to fetch).
"""

from __future__ import annotations

import http.client
import json
import types
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

from notecards.targets.address import DEFAULT_URL
from notecards.targets.errors import AnkiConnectError, AnkiRefused, AnkiUnreachableError

API_VERSION = 6

# What each action notecards reads answers, as the recording shows it; an answer of another
# shape is not from AnkiConnect (or is damaged), and stops the run with a sentence, not a
# traceback halfway through. (`notesInfo`'s entries are checked in parse_notes_info.)
RESULT_SHAPES: dict[str, Any] = {
    "version": int,
    "deckNamesAndIds": dict[str, int],
    "findNotes": list[int],
    "findCards": list[int],
    "notesInfo": list[dict],
    "notesModTime": list[dict],
    "getDecks": dict[str, list[int]],
    "getMediaDirPath": str,
    "createDeck": int,
    "addNote": int,
    "addNotes": list[int | None],
    "canAddNotes": list[bool],
    "modelNamesAndIds": dict[str, int],
    "modelFieldNames": list[str],
    "modelTemplates": dict[str, dict[str, str]],
    "retrieveMediaFile": str | bool,
    "storeMediaFile": str,
}


@dataclass(frozen=True)
class AnkiNote:
    """A note as Anki holds it (what `notesInfo` answers)."""

    note_id: int
    model: str
    fields: dict[str, str]
    tags: tuple[str, ...]
    cards: tuple[int, ...]


@dataclass(frozen=True)
class NewNote:
    """A note to add: the fields are the HTML Anki stores."""

    deck: str
    model: str
    fields: dict[str, str]
    tags: tuple[str, ...]


@dataclass
class AddResult:
    """Per note, in order: the new id, or None and why Anki refused it."""

    ids: list[int | None] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)


class AnkiConnect:
    """One AnkiConnect endpoint; every method is one HTTP request."""

    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, timeout: float = 120.0):
        self.url = url
        self.api_key = api_key
        self.timeout = timeout
        self.requests_sent = 0

    # -- transport -------------------------------------------------------------------------

    def invoke(self, action: str, **params: Any) -> Any:
        """Run one action; its result, or AnkiConnectError with Anki's reason."""
        answer = self._post(self._body(action, params))
        if not isinstance(answer, dict) or set(answer) != {"result", "error"}:
            raise AnkiConnectError(
                f"The server at {self.url} does not answer like AnkiConnect (API version 6)."
            )
        if answer["error"] is not None:
            raise AnkiRefused(_explain(action, str(answer["error"])))
        return self._checked(action, answer["result"])

    def multi(self, actions: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[Any, str | None]]:
        """Many actions in one request: (result, error) per action, in order."""
        if not actions:
            return []
        answers = self.invoke("multi", actions=[self._body(name, p) for name, p in actions])
        if not isinstance(answers, list) or len(answers) != len(actions):
            raise self._unlike("multi", answers)
        results = []
        for (action, _), answer in zip(actions, answers, strict=True):
            if not isinstance(answer, dict) or set(answer) != {"result", "error"}:
                raise self._unlike(action, answer)
            error = answer["error"]
            if error is not None:
                results.append((None, str(error)))
            else:
                results.append((self._checked(action, answer["result"]), None))
        return results

    def _checked(self, action: str, result: Any) -> Any:
        if action in RESULT_SHAPES and not _conforms(result, RESULT_SHAPES[action]):
            raise self._unlike(action, result)
        return result

    def _unlike(self, action: str, answer: Any) -> AnkiConnectError:
        shown = repr(answer)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return AnkiConnectError(
            f"The server at {self.url} does not answer like AnkiConnect (API version 6):"
            f" {action} answered {shown}"
        )

    def multi_or_raise(
        self, actions: Sequence[tuple[str, dict[str, Any]]], *, may_fail: Collection[str] = ()
    ) -> list[tuple[Any, str | None]]:
        """`multi`, raising AnkiConnectError (every refusal, explained) if an action fails;
        actions named in `may_fail` answer their error instead (a feature an add-on lacks)."""
        answers = self.multi(actions)
        raise_refused(actions, answers, may_fail=may_fail)
        return answers

    def _body(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """One action as sent; the key goes in every action, inner `multi` ones too."""
        body: dict[str, Any] = {"action": action, "version": API_VERSION}
        if params:
            body["params"] = params
        if self.api_key:
            body["key"] = self.api_key
        return body

    def _post(self, body: dict[str, Any]) -> Any:
        """One HTTP POST through the standard library's client, which reads no proxy or netrc
        from the environment and follows no redirect (and costs a `notecards` start a tenth
        of what an HTTP library's import does)."""
        self.requests_sent += 1
        try:
            status, payload = self._exchange(json.dumps(body, allow_nan=False).encode())
        except TimeoutError as exc:
            raise AnkiUnreachableError(
                f"Anki did not answer at {self.url} within {self.timeout:.0f} s. It may be busy "
                "(a dialog open, a large collection being checked): try again."
            ) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise AnkiUnreachableError(
                f"Could not reach Anki at {self.url}. Start Anki and make sure the AnkiConnect "
                "add-on (code 2055492159) is installed and enabled."
            ) from exc
        if status != 200:
            raise AnkiUnreachableError(
                f"The server at {self.url} answered HTTP {status}; is it AnkiConnect?"
            )
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise AnkiConnectError(
                f"The server at {self.url} does not answer like AnkiConnect (not JSON)."
            ) from exc

    def _exchange(self, data: bytes) -> tuple[int, bytes]:
        """(status, body) of one POST of `data`: at most 5 s to connect, `timeout` to answer.
        AnkiConnect answers HTTP/1.1 without `Connection: close` and then closes the socket:
        a connection kept for the next request would be reset, so there is one per request."""
        parts = urlsplit(self.url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.hostname or "", parts.port, timeout=min(5.0, self.timeout))
        try:
            connection.connect()
            connection.sock.settimeout(self.timeout)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = {"Content-Type": "application/json"}
            connection.request("POST", path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    # -- actions ---------------------------------------------------------------------------

    def check_version(self, version: Any) -> None:
        """A sentence, not a confusing failure later, on an add-on too old for API version 6.

        Takes the `version` answer so callers can ask for it inside a `multi` they send anyway.
        """
        if not isinstance(version, int) or version < API_VERSION:
            raise AnkiConnectError(
                f"AnkiConnect at {self.url} speaks API version {version}; notecards needs "
                f"{API_VERSION}. Update the add-on."
            )

    def add_notes(self, notes: Sequence[NewNote]) -> AddResult:
        """Add `notes` in one `addNotes`; works with both kinds of the add-on.

        Where Anki refuses (null in the list, or one error for the whole batch, after which
        the newer add-on has added nothing), the refused notes are tried again one by one in
        a single `multi`, which says for each why it failed (or adds it). The caller cuts
        the batches.
        """
        try:
            ids = self.invoke("addNotes", notes=[_note_params(n) for n in notes])
        except AnkiUnreachableError:
            raise
        except AnkiConnectError:
            ids = [None] * len(notes)
        if len(ids) != len(notes):
            raise self._unlike("addNotes", ids)
        errors: list[str | None] = [None] * len(notes)
        refused = [i for i, nid in enumerate(ids) if nid is None]
        retried = self.multi([("addNote", {"note": _note_params(notes[i])}) for i in refused])
        for i, (nid, error) in zip(refused, retried, strict=True):
            ids[i] = nid
            errors[i] = None if nid is not None else (error or "Anki refused the note")
        return AddResult(ids, errors)

    def notes_info(self, note_ids: Sequence[int]) -> dict[int, AnkiNote]:
        """The notes Anki has among `note_ids` (missing ids are simply absent)."""
        return parse_notes_info(self.invoke("notesInfo", notes=list(note_ids)))

    def card_decks(self, card_ids: Sequence[int]) -> dict[int, str]:
        """card id -> deck name (`getDecks`: compact, unlike `cardsInfo`)."""
        if not card_ids:
            return {}
        return invert_decks(self.invoke("getDecks", cards=list(card_ids)))


def parse_notes_info(answer: Iterable[dict[str, Any]]) -> dict[int, AnkiNote]:
    """`notesInfo`'s list -> id -> AnkiNote; `{}` entries (no such note) are skipped.
    Raises AnkiConnectError for an entry of another shape."""
    notes = {}
    for info in answer:
        if not info:
            continue
        if not is_note_info(info):
            shown = repr(info)[:60]
            raise AnkiConnectError(f"notesInfo answered a note of another shape: {shown}")
        ordered = sorted(info["fields"].items(), key=lambda kv: kv[1]["order"])
        notes[info["noteId"]] = AnkiNote(
            note_id=info["noteId"],
            model=info["modelName"],
            fields={name: f["value"] for name, f in ordered},
            tags=tuple(info["tags"]),
            cards=tuple(info["cards"]),
        )
    return notes


def is_note_info(info: Any) -> bool:
    """Whether a `notesInfo` entry is `{noteId: int, modelName: str, fields: {str: {value:
    str, order: int}}, tags: [str], cards: [int]}` (as `_conforms` would say, with the types
    JSON gives: bool is no int). Spelled out: a two-way sync on the day of a push checks
    10,000 of them, and the general walk took most of the time their reading takes here."""
    if type(info) is not dict:
        return False
    fields, tags, cards = info.get("fields"), info.get("tags"), info.get("cards")
    return (
        type(info.get("noteId")) is int
        and type(info.get("modelName")) is str
        and type(fields) is dict
        and type(tags) is list
        and type(cards) is list
        and all(type(tag) is str for tag in tags)
        and all(type(card) is int for card in cards)
        and all(
            type(name) is str
            and type(field) is dict
            and type(field.get("value")) is str
            and type(field.get("order")) is int
            for name, field in fields.items()
        )
    )


def _conforms(value: Any, shape: Any) -> bool:
    """Whether a JSON value has the shape a type hint names (int, str, list[int], dict[str,
    int], X | None, ...); bool is not an int here, as in JSON."""
    origin, args = _parts(shape)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, option) for option in args)
    if origin is list:
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _conforms(k, args[0]) and _conforms(v, args[1]) for k, v in value.items()
        )
    if shape is type(None):
        return value is None
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, shape)


@cache
def _parts(shape: Any) -> tuple[Any, tuple[Any, ...]]:
    """A type hint's origin and arguments, looked up once per hint (an answer about 10,000
    notes checks the same few hints 20,000 times)."""
    return get_origin(shape), get_args(shape)


def invert_decks(decks: dict[str, list[int]]) -> dict[int, str]:
    return {card: deck for deck, cards in decks.items() for card in cards}


def _note_params(note: NewNote) -> dict[str, Any]:
    return {
        "deckName": note.deck,
        "modelName": note.model,
        "fields": note.fields,
        "tags": list(note.tags),
    }


def raise_refused(
    actions: Sequence[tuple[str, dict[str, Any]]],
    answers: Sequence[tuple[Any, str | None]],
    *,
    may_fail: Collection[str] = (),
) -> None:
    """Raise AnkiConnectError (every refusal, explained) if one of `actions` that is not named
    in `may_fail` failed: `multi_or_raise` for actions sent in a `multi` beside others."""
    refused = [
        _explain(action, str(error))
        for (action, _), (_, error) in zip(actions, answers, strict=True)
        if error and action not in may_fail
    ]
    if refused:
        raise AnkiConnectError("; ".join(dict.fromkeys(refused)))


def _explain(action: str, error: str) -> str:
    """Anki's reason, with what to do for the errors a user can fix."""
    if "api key" in error.lower():
        return (
            "AnkiConnect refused the API key. Pass --api-key, set ankiconnect.api_key in "
            "notecards.yaml, or set NOTECARDS_ANKICONNECT_KEY to the key in AnkiConnect's config."
        )
    return f"AnkiConnect refused {action}: {error}"
