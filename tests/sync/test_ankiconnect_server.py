"""The AnkiConnect test server answers like the real add-on, over a real Anki collection.

`test_replays_the_recording` replays a recording of Anki 26.9.3 + AnkiConnect (../shared) and
compares every answer; the other tests pin the same key behaviours without that recording.
"""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import genanki
import pytest
import requests
from anki.collection import Collection

from notecards.targets.ankiconnect import AnkiConnect
from notecards.targets.package import write_package
from tests.helpers.ankiconnect_server import AnkiConnectServer, ServerProcess
from tests.helpers.paths import SHARED

TRANSCRIPT = SHARED / "ankiconnect" / "transcript.jsonl"
# Ids (ms timestamps, random template/field ids) differ from run to run; seconds too.
ID_MAGNITUDE = 10**12
TIMESTAMP_MAGNITUDE = 10**9


def post(server: AnkiConnectServer | ServerProcess, body: Any) -> tuple[int, Any]:
    """One HTTP request; a str body goes out as is (to send broken JSON)."""
    data = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(server.url, data=data.encode(), timeout=30)
    return response.status_code, response.json()


def invoke(server: AnkiConnectServer | ServerProcess, action: str, **params: Any) -> Any:
    """Call an API-6 action and return its result; fail the test on an error reply."""
    status, reply = post(server, {"action": action, "version": 6, "params": params})
    assert status == 200
    assert reply["error"] is None, reply
    return reply["result"]


def basic_note(front: str, back: str = "b", deck: str = "Default", **extra: Any) -> dict:
    return {"deckName": deck, "modelName": "Basic", "fields": {"Front": front, "Back": back}} | (
        extra
    )


# -- the protocol ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not json", "Expecting value: line 1 column 1 (char 0)"),
        ({"action": "noSuchAction", "version": 6}, "unsupported action"),
        (
            {"action": "deckNames", "version": 6, "params": {"bogus": 1}},
            "AnkiConnect.deckNames() got an unexpected keyword argument 'bogus'",
        ),
        (
            {"action": "modelFieldNames", "version": 6, "params": {"modelName": "Nope"}},
            "model was not found: Nope",
        ),
        (
            {
                "action": "updateNoteFields",
                "version": 6,
                "params": {"note": {"id": 1, "fields": {}}},
            },
            "Note was not found: 1",
        ),
        (
            {"action": "storeMediaFile", "version": 6, "params": {"filename": "x.png"}},
            'You must provide a "data", "path", or "url" field.',
        ),
    ],
)
def test_errors_are_http_200_with_a_null_result(
    anki_server: AnkiConnectServer, body: Any, error: str
) -> None:
    assert post(anki_server, body) == (200, {"result": None, "error": error})


def test_request_without_version_gets_the_bare_result(anki_server: AnkiConnectServer) -> None:
    assert post(anki_server, {"action": "version"}) == (200, 6)
    assert post(anki_server, {"action": "deckNames", "version": 4}) == (200, ["Default"])
    assert post(anki_server, {"action": "deckNames", "version": 6}) == (
        200,
        {"result": ["Default"], "error": None},
    )


def test_counts_requests_and_actions_until_reset(anki_server: AnkiConnectServer) -> None:
    invoke(anki_server, "deckNames")
    invoke(anki_server, "multi", actions=[{"action": "deckNames"}, {"action": "modelNames"}])
    assert anki_server.requests == 2
    assert anki_server.actions == {"deckNames": 2, "multi": 1, "modelNames": 1}
    anki_server.reset_counts()
    assert (anki_server.requests, sum(anki_server.actions.values())) == (0, 0)


# -- notes ----------------------------------------------------------------------------------


def test_added_note_is_stored_in_the_collection_and_updated_in_place(
    anki_server: AnkiConnectServer,
) -> None:
    note_id = invoke(anki_server, "addNote", note=basic_note("front", tags=["t1", "t2"]))
    invoke(anki_server, "updateNoteFields", note={"id": note_id, "fields": {"Back": "new back"}})
    invoke(anki_server, "updateNoteTags", note=note_id, tags=["t3"])

    with anki_server.collection() as col:
        stored = col.get_note(note_id)
        assert (stored["Front"], stored["Back"], stored.tags) == ("front", "new back", ["t3"])
        assert list(col.find_notes("")) == [note_id]
    [info] = invoke(anki_server, "notesInfo", notes=[note_id])
    assert info["fields"]["Back"] == {"value": "new back", "order": 1}
    assert invoke(anki_server, "findNotes", query="tag:t3") == [note_id]


def test_add_note_refusals_match_the_add_on(anki_server: AnkiConnectServer) -> None:
    invoke(anki_server, "addNote", note=basic_note("taken"))
    refusals = {
        "cannot create note because it is a duplicate": basic_note("taken"),
        "cannot create note because it is empty": basic_note(""),
        "deck was not found: Nope": basic_note("x", deck="Nope"),
    }
    for error, note in refusals.items():
        assert post(anki_server, {"action": "addNote", "version": 6, "params": {"note": note}}) == (
            200,
            {"result": None, "error": error},
        )
    allowed = basic_note("taken", options={"allowDuplicate": True})
    assert isinstance(invoke(anki_server, "addNote", note=allowed), int)


def test_duplicate_scope_options_narrow_or_widen_the_check(anki_server: AnkiConnectServer) -> None:
    invoke(anki_server, "createDeck", deck="Other")
    invoke(anki_server, "addNote", note=basic_note("twin", deck="Other"))
    in_deck = {"duplicateScope": "deck"}
    all_models = {"duplicateScopeOptions": {"checkAllModels": True}}
    reversed_twin = basic_note("twin") | {"modelName": "Basic (and reversed card)"}
    cases = {
        "same note type, any deck": (basic_note("twin"), False),
        "scope deck, twin elsewhere": (basic_note("twin", options=in_deck), True),
        "scope deck, twin in it": (basic_note("twin", deck="Other", options=in_deck), False),
        "other note type": (reversed_twin, True),
        "other note type, all models": (reversed_twin | {"options": all_models}, False),
    }
    answers = invoke(anki_server, "canAddNotes", notes=[note for note, _ in cases.values()])
    assert dict(zip(cases, answers, strict=True)) == {
        case: can_add for case, (_, can_add) in cases.items()
    }


def test_add_notes_answers_id_or_null_per_note(anki_server: AnkiConnectServer) -> None:
    ids = invoke(
        anki_server, "addNotes", notes=[basic_note("one"), basic_note(""), basic_note("two")]
    )
    assert ids[1] is None
    assert invoke(anki_server, "findNotes", query="") == sorted([ids[0], ids[2]])


@pytest.mark.parametrize("anki_server", [{"addnotes_all_or_nothing": True}], indirect=True)
def test_all_or_nothing_add_notes_fails_whole_batch(anki_server: AnkiConnectServer) -> None:
    notes = [basic_note("one"), basic_note(""), basic_note("two")]
    status, reply = post(
        anki_server, {"action": "addNotes", "version": 6, "params": {"notes": notes}}
    )
    assert (status, reply["result"]) == (200, None)
    assert "cannot create note because it is empty" in reply["error"]
    assert invoke(anki_server, "findNotes", query="") == []


def test_unknown_ids_give_empty_objects(anki_server: AnkiConnectServer) -> None:
    note_id = invoke(anki_server, "addNote", note=basic_note("real"))
    infos = invoke(anki_server, "notesInfo", notes=[1, note_id])
    assert infos[0] == {} and infos[1]["noteId"] == note_id
    assert invoke(anki_server, "cardsInfo", cards=[1]) == [{}]


def test_multi_returns_inner_errors_in_its_list(anki_server: AnkiConnectServer) -> None:
    actions = [
        {"action": "deckNames"},
        {"action": "noSuchAction", "version": 6},
        {"action": "addNote", "version": 6, "params": {"note": basic_note("")}},
    ]
    assert invoke(anki_server, "multi", actions=actions) == [
        ["Default"],
        {"result": None, "error": "unsupported action"},
        {"result": None, "error": "cannot create note because it is empty"},
    ]


def test_concurrent_clients_are_served_one_at_a_time(anki_server: AnkiConnectServer) -> None:
    def add_batch(worker: int) -> list[int]:
        return [
            invoke(anki_server, "addNote", note=basic_note(f"w{worker} n{n}")) for n in range(5)
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        added = [note_id for batch in pool.map(add_batch, range(6)) for note_id in batch]
    assert sorted(added) == invoke(anki_server, "findNotes", query="") and len(set(added)) == 30


# -- decks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anki_server", "landing_deck"),
    [({"default_deck_bug": True}, "Default"), ({}, "A::B")],
    indirect=["anki_server"],
)
def test_deck_bug_switch_decides_where_added_cards_land(
    anki_server: AnkiConnectServer, landing_deck: str
) -> None:
    invoke(anki_server, "createDeck", deck="A::B")
    [note_id, _] = invoke(
        anki_server, "addNotes", notes=[basic_note("q1", deck="A::B"), basic_note("q1")]
    )
    [card_id] = invoke(anki_server, "findCards", query=f"nid:{note_id}")
    assert invoke(anki_server, "cardsInfo", cards=[card_id])[0]["deckName"] == landing_deck

    invoke(anki_server, "changeDeck", cards=[card_id], deck="C::New")
    assert invoke(anki_server, "getDecks", cards=[card_id]) == {"C::New": [card_id]}
    assert invoke(anki_server, "findNotes", query='deck:"C::New"') == [note_id]


# -- the api key ----------------------------------------------------------------------------


@pytest.mark.parametrize("anki_server", [{"api_key": "s3cret"}], indirect=True)
def test_api_key_is_required_on_every_request(anki_server: AnkiConnectServer) -> None:
    refused = {"result": None, "error": "valid api key must be provided"}
    assert post(anki_server, {"action": "deckNames", "version": 6}) == (200, refused)
    assert post(anki_server, {"action": "deckNames", "version": 6, "key": "wrong"}) == (
        200,
        refused,
    )
    keyed = {"action": "deckNames", "version": 6, "key": "s3cret"}
    assert post(anki_server, keyed) == (200, {"result": ["Default"], "error": None})
    # As in the add-on, multi's inner actions each need the key too.
    inner = [keyed, {"action": "deckNames", "version": 6}]
    multi = {"action": "multi", "version": 6, "key": "s3cret", "params": {"actions": inner}}
    assert post(anki_server, multi)[1]["result"] == [
        {"result": ["Default"], "error": None},
        refused,
    ]


# -- media, models, packages ----------------------------------------------------------------


def test_media_round_trip(anki_server: AnkiConnectServer) -> None:
    data = base64.b64encode(b"\x89PNG not really").decode()
    assert invoke(anki_server, "storeMediaFile", filename="nc_a.png", data=data) == "nc_a.png"
    assert invoke(anki_server, "retrieveMediaFile", filename="nc_a.png") == data
    assert invoke(anki_server, "getMediaFilesNames", pattern="nc_*") == ["nc_a.png"]
    invoke(anki_server, "deleteMediaFile", filename="nc_a.png")
    assert invoke(anki_server, "retrieveMediaFile", filename="nc_a.png") is False
    status, reply = post(
        anki_server,
        {"action": "storeMediaFile", "version": 6, "params": {"filename": "u", "url": "http://x"}},
    )
    assert reply["result"] is None and "refuses" in reply["error"]


def test_created_models_take_notes_and_cloze_needs_a_cloze(anki_server: AnkiConnectServer) -> None:
    model = invoke(
        anki_server,
        "createModel",
        modelName="QA",
        inOrderFields=["Question", "Answer"],
        css=".card {}",
        cardTemplates=[{"Name": "Q>A", "Front": "{{Question}}", "Back": "{{Answer}}"}],
    )
    assert [field["name"] for field in model["flds"]] == ["Question", "Answer"]
    assert invoke(anki_server, "modelTemplates", modelName="QA") == {
        "Q>A": {"Front": "{{Question}}", "Back": "{{Answer}}"}
    }
    assert invoke(anki_server, "modelStyling", modelName="QA") == {"css": ".card {}"}
    invoke(
        anki_server,
        "createModel",
        modelName="Cz",
        inOrderFields=["Text"],
        isCloze=True,
        cardTemplates=[{"Front": "{{cloze:Text}}", "Back": "{{cloze:Text}}"}],
    )
    question = {
        "deckName": "Default",
        "modelName": "QA",
        "fields": {"question": "case-insensitive"},
    }
    note_id = invoke(anki_server, "addNote", note=question)
    assert invoke(anki_server, "notesInfo", notes=[note_id])[0]["fields"]["Question"]["value"] == (
        "case-insensitive"
    )
    no_cloze = {"deckName": "Default", "modelName": "Cz", "fields": {"Text": "plain"}}
    assert post(anki_server, {"action": "addNote", "version": 6, "params": {"note": no_cloze}}) == (
        200,
        {"result": None, "error": "cannot create note for unknown reason"},
    )


def write_genanki_package(path: Path, deck_name: str, model_name: str, count: int) -> Path:
    """A small .apkg built with genanki, as `notecards build` makes them."""
    model = genanki.Model(
        1607392319,
        model_name,
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(2059400110, deck_name)
    for number in range(count):
        deck.add_note(genanki.Note(model=model, fields=[f"front {number}", f"back {number}"]))
    write_package(genanki.Package(deck), path)
    return path


def test_import_package_of_genanki_output(anki_server: AnkiConnectServer, tmp_path: Path) -> None:
    package = write_genanki_package(tmp_path / "x.apkg", "G::Imported", "GModel", 3)
    assert invoke(anki_server, "importPackage", path=str(package)) is True
    assert len(invoke(anki_server, "findNotes", query='deck:"G::Imported"')) == 3
    assert "GModel" in invoke(anki_server, "modelNames")


@pytest.mark.parametrize("anki_server_process", [["--default-deck-bug"]], indirect=True)
@pytest.mark.parametrize("killed", [False, True], ids=["stopped", "killed"])
def test_separate_process_serves_and_keeps_its_notes(
    anki_server_process: ServerProcess, killed: bool
) -> None:
    invoke(anki_server_process, "createDeck", deck="Elsewhere")
    note_id = invoke(anki_server_process, "addNote", note=basic_note("kept", deck="Elsewhere"))
    if killed:  # no chance to close the collection: each answered add is already on disk
        anki_server_process.process.kill()
        anki_server_process.process.wait()
    anki_server_process.stop()
    col = Collection(str(anki_server_process.collection_path))
    try:
        assert list(col.find_notes('deck:"Default"')) == [note_id]
    finally:
        col.close()


# -- the recording --------------------------------------------------------------------------


# A card and its note were often given the same id in the recording but need not be here, so
# card ids are mapped apart from the rest; these say where an id is a card's.
CARD_ID_KEYS = {"cards", "cardId"}
CARD_ID_RESULTS = {"findCards", "getDecks"}


class IdMap:
    """Recorded ids -> ids this run; a recorded id must always come back as the same new one."""

    def __init__(self) -> None:
        self.ours: dict[tuple[bool, int], int] = {}

    def match(self, recorded: Any, ours: Any, where: str, is_card: bool = False) -> None:
        """Compare a recorded answer with ours, ids and times aside; learn the id pairs."""
        if isinstance(recorded, dict):
            assert isinstance(ours, dict) and list(ours) == list(recorded), where
            for key in recorded:
                key_is_card = key in CARD_ID_KEYS or (is_card and key != "note")
                self.match(recorded[key], ours[key], f"{where}.{key}", key_is_card)
        elif isinstance(recorded, list):
            assert isinstance(ours, list) and len(ours) == len(recorded), where
            for index, (old, new) in enumerate(zip(recorded, ours, strict=True)):
                self.match(old, new, f"{where}[{index}]", is_card)
        elif type(recorded) is int and abs(recorded) >= ID_MAGNITUDE:
            assert type(ours) is int and abs(ours) >= ID_MAGNITUDE, where
            known = self.ours.setdefault((is_card, recorded), ours)
            assert known == ours, f"{where}: id mix-up"
        elif type(recorded) is int and recorded >= TIMESTAMP_MAGNITUDE:
            assert type(ours) is int and ours >= TIMESTAMP_MAGNITUDE, where
        else:
            assert ours == recorded, f"{where}: {ours!r} != {recorded!r}"

    def translate(self, request: Any, is_card: bool = False) -> Any:
        """The recorded request with recorded ids replaced by this run's (in strings too)."""
        if isinstance(request, dict):
            return {
                key: self.translate(value, key in CARD_ID_KEYS) for key, value in request.items()
            }
        if isinstance(request, list):
            return [self.translate(value, is_card) for value in request]
        if type(request) is int:
            return self.ours.get((is_card, request), request)
        if isinstance(request, str):  # a search such as "nid:1795731950063"
            return re.sub(
                r"\d{13,}", lambda m: str(self.ours.get((False, int(m[0])), m[0])), request
            )
        return request


@pytest.mark.parametrize("anki_server", [{"default_deck_bug": True}], indirect=True)
def test_replays_the_recording(anki_server: AnkiConnectServer, tmp_path: Path) -> None:
    """Every recorded request, in order, gets the recorded answer (made with the deck bug on)."""
    if not TRANSCRIPT.exists():
        pytest.skip(f"no recording at {TRANSCRIPT} (it ships with the workspace, not the repo)")
    steps = [json.loads(line) for line in TRANSCRIPT.read_text().splitlines() if line.strip()]
    ids = IdMap()
    replayed = 0
    for step in steps:
        if "request" not in step:
            continue  # the timing summary
        request = ids.translate(step["request"])
        if step["step"] == "importPackage":
            package = write_genanki_package(
                tmp_path / "genanki_test.apkg", "Genanki::Imported", "NotecardsGenankiModel", 5
            )
            request["params"]["path"] = str(package)
        status, reply = post(anki_server, request)
        assert status == step["http_status"], step["step"]
        action = step["request"]["action"] if isinstance(step["request"], dict) else None
        ids.match(step["response"], reply, step["step"], action in CARD_ID_RESULTS)
        replayed += 1
    assert replayed == anki_server.requests == len(steps) - 1


def test_the_client_survives_a_server_that_closes_every_connection(anki_server):
    """The add-on answers HTTP/1.1 without `Connection: close`, then closes the socket (so does
    the test server): a client that kept the connection for its next request got resets, about
    one request in ten here, one in three against the real desktop."""
    client = AnkiConnect(anki_server.url)
    assert [client.invoke("version") for _ in range(200)] == [6] * 200
