"""Step 2 of a sync: what Anki holds, learned in one request.

Presence comes from `findNotes nid:...` (ids only), so a sync with nothing changed fetches no
note contents at all; `notesInfo` is asked only for the notes the vault changed.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notecards.hashing import field_matches
from notecards.sync.state import PENDING_TAG, PushedNote, SyncState, mod_as_seen
from notecards.targets.address import is_loopback
from notecards.targets.ankiconnect import AnkiConnect, AnkiNote, is_note_info, parse_notes_info

if TYPE_CHECKING:
    from notecards.vault import Vault

# Tags Anki itself puts on notes while a person reviews: not the author's to write down.
ANKI_REVIEW_TAGS = frozenset(("leech", "marked"))


@dataclass
class AnkiSnapshot:
    notes: dict[int, AnkiNote]  # what Anki holds for the rendered notes
    present: set[int]  # which of the ids the vault and the state name Anki has
    decks: dict[str, int]  # name -> id
    pending: list[int]  # notes an interrupted sync added (they carry a pending tag)
    shares_files: bool  # Anki can open a package file of ours
    # Two-way sync: each known note's modification time, where Anki answers notesModTime;
    # else the notes Anki's own search finds edited since the day of the last sync.
    mods: dict[int, int] | None
    edited: set[int]
    # When the request that answered `mods` was sent: Anki's times are whole seconds, and a
    # note edited in the second its time was read, after the read, keeps that time; only a
    # time older than a second before the request is surely the note's last (mod_as_seen).
    asked_at: float

    def edited_since(self, state: SyncState) -> set[int]:
        """The recorded notes Anki may have changed since notecards last saw them."""
        if self.mods is None:
            return self.edited & state.notes.keys()
        return {
            nid
            for nid, mod in self.mods.items()
            if nid in state.notes and mod > state.notes[nid].anki_mod
        }


def unedited(client: AnkiConnect, snapshot: AnkiSnapshot, state: SyncState) -> bool:
    """Whether every note Anki shows modified since notecards last saw it still holds what was
    last pushed, told by its fields, in one request (`notesInfo`; where a note differs, kept
    in the snapshot for the sync that goes on). On the day of a push Anki's `edited:N` finds
    every note pushed, and a note modified in the second its time was read could have been
    edited within it: only the fields tell. Where Anki answers times, those notes' are then
    recorded as seen."""
    edited = sorted(snapshot.edited_since(state))
    unread = [nid for nid in edited if nid not in snapshot.notes]
    told: set[int] = set()  # as pushed, told from Anki's answer before any note is built
    if unread:
        answer = client.invoke("notesInfo", notes=unread)
        if answers_as_pushed(answer, unread, state):
            told = set(unread)  # (no note built: the sync stops here, but where Anki's times
            # went back since, as_left.py, and then reads those it needs again)
        else:
            snapshot.notes.update(parse_notes_info(answer))
    if any(
        nid not in told
        and (nid not in snapshot.notes or differs(snapshot.notes[nid], state.notes[nid]))
        for nid in edited
    ):
        return False
    for nid in edited if snapshot.mods is not None else ():
        seen = mod_as_seen(snapshot.mods[nid], snapshot.asked_at)
        state.notes[nid] = dataclasses.replace(state.notes[nid], anki_mod=seen)
    return True


def differs(anki_note: AnkiNote, record: PushedNote) -> bool:
    """Whether Anki holds a field or tags other than notecards last pushed: only such a
    note is rendered and looked at (a note Anki merely saved again is not)."""
    fields = anki_note.fields
    if any(
        name in fields and not field_matches(fields[name], d) for name, d in record.fields.items()
    ):
        return True
    return not _same_tags(anki_note.tags, record.tags)


def answers_as_pushed(answer: object, asked: Sequence[int], state: SyncState) -> bool:
    """Whether `notesInfo`'s `answer` to the `asked` notes (each recorded) shows each as last
    pushed (none `differs`), told from its entries as they are: on the day of a push a
    two-way no-op reads every note pushed (10,000), and building a note of each cost as much
    as comparing them. False where an entry is of another shape, for another note or none
    (parse_notes_info then tells what it is), as where a note differs."""
    if type(answer) is not list or len(answer) != len(asked):
        return False
    same_tags: dict[tuple[tuple[str, ...], tuple[str, ...]], bool] = {}  # (few distinct)
    for nid, info in zip(asked, answer, strict=True):
        if not is_note_info(info) or info["noteId"] != nid:
            return False
        record, fields = state.notes[nid], info["fields"]
        if any(
            name in fields and not field_matches(fields[name]["value"], digest)
            for name, digest in record.fields.items()
        ):
            return False
        tags = (tuple(info["tags"]), tuple(record.tags))
        if tags not in same_tags:
            same_tags[tags] = _same_tags(*tags)
        if not same_tags[tags]:
            return False
    return True


def _same_tags(in_anki: Sequence[str], pushed: Sequence[str]) -> bool:
    return {t.casefold() for t in authored(in_anki)} == {t.casefold() for t in pushed}


def authored(tags: Sequence[str]) -> list[str]:
    """A note's tags in Anki without those notecards or Anki's reviews put there."""
    return [
        t
        for t in tags
        if not t.casefold().startswith(PENDING_TAG) and t.casefold() not in ANKI_REVIEW_TAGS
    ]


def read_anki(
    client: AnkiConnect,
    vault: Vault,
    state: SyncState,
    rendered: Collection[int],
    *,
    two_way: bool,
    after_ankiweb: bool = False,
) -> AnkiSnapshot:
    """One request: version, decks, which known notes Anki still has, what it holds for the
    `rendered` ones (only those can differ from the last push), pending adds, its media folder;
    for a two-way sync also which notes were edited in Anki, by their modification times (a
    release that has them answers them instead of the ids) or by `edited:N`. Whether this Anki
    has them is remembered in the state.

    Asking every note's time costs Anki a note read each: where most notes were last seen
    unchanged before the days `edited:N` covers, the search comes first, beside the times of
    the notes last seen within those days (the ones the search finds unless Anki has others,
    as on the day of a push), and a second request asks the times of any other note it finds;
    not `after_ankiweb`, when edits made elsewhere days ago may have just come in."""
    known = known_notes(vault, state)
    return ask_anki(client, known, rendered, state, two_way=two_way, after_ankiweb=after_ankiweb)


def known_notes(vault: Vault, state: SyncState) -> set[int]:
    """The notes a sync asks Anki about: those the vault and the state name."""
    known = {n.note_id for n in vault.parsed.notes if n.note_id is not None}
    return known | {d.note_id for d in vault.parsed.deletions} | set(state.notes)


def ask_anki(
    client: AnkiConnect,
    known: Collection[int],
    rendered: Collection[int],
    state: SyncState,
    *,
    two_way: bool,
    after_ankiweb: bool = False,
) -> AnkiSnapshot:
    """read_anki's request, for the `known` notes (those the vault and the state name) and
    the contents of the `rendered` ones: a sync that parsed nothing asks it too (as_left.py)."""
    rendered = sorted(rendered)
    ids = sorted(known)
    asked: dict[str, tuple[str, dict]] = {
        "version": ("version", {}),
        "decks": ("deckNamesAndIds", {}),
        "pending": ("findNotes", {"query": f"tag:{PENDING_TAG}*"}),
    }
    days = _days_since(state.synced_at)
    recent = None
    if two_way and state.mod_times and not after_ankiweb:
        recent = _seen_recently(state, days)
    search_first = recent is not None
    if known:  # (an empty `nid:` is a search error; with no known note there is nothing to ask)
        if two_way and state.mod_times is not False and not search_first:
            asked["mods"] = ("notesModTime", {"notes": ids})
        elif recent:
            asked["mods"] = ("notesModTime", {"notes": recent})  # (those the search finds)
        if not (two_way and state.mod_times) or search_first:
            asked["present"] = ("findNotes", {"query": "nid:" + ",".join(map(str, ids))})
        if rendered:
            asked["notes"] = ("notesInfo", {"notes": rendered})
        if two_way and (not state.mod_times or search_first):
            asked["edited"] = ("findNotes", {"query": f"edited:{days}"})
    # An add-on without getMediaDirPath answers an error for it: then Anki cannot share files.
    asked["media_dir"] = ("getMediaDirPath", {})
    asked_at = time.time()  # (before the request: the second request's times are later)
    answers = dict(
        zip(
            asked,
            client.multi_or_raise(
                list(asked.values()), may_fail=("getMediaDirPath", "notesModTime")
            ),
            strict=True,
        )
    )
    client.check_version(answers["version"][0])
    edited = set(answers["edited"][0]) if "edited" in answers else set()
    if search_first:
        times, error = answers.get("mods", ([], None))
        others = sorted((edited & state.notes.keys()) - set(recent or ()))
        if others and error is None:
            more, error = _mod_times(client, others)
            times = [*times, *more]  # (Anki answers a list of times)
        answers["mods"] = (times, error)
    mods = None
    if "mods" in answers:
        times, error = answers["mods"]
        state.mod_times = error is None
        if error is None:
            mods = {t["noteId"]: t["mod"] for t in times if is_mod_time(t)}
    if search_first or mods is None:
        present = set(answers.get("present", ([], None))[0])
    else:
        present = set(mods)
    notes = parse_notes_info(answers["notes"][0]) if "notes" in answers else {}
    media_dir = answers["media_dir"][0]
    # Anki can open our files when it runs here and sees this file system (not in WSL, or in
    # a container).
    shares_files = (
        is_loopback(client.url) and isinstance(media_dir, str) and Path(media_dir).is_dir()
    )
    return AnkiSnapshot(
        notes, present, answers["decks"][0], answers["pending"][0], shares_files, mods, edited,
        asked_at,
    )  # fmt: skip


def _seen_recently(state: SyncState, days: int) -> list[int] | None:
    """The recorded notes last seen modified within the `edited:{days}` search's reach, where
    they are at most half of them (then the search comes first, and finds few); else None.
    Not when a record has no time yet (it is asked for), nor at the first two-way sync of a
    day: an edit made on another device before the last sync, which came to this Anki through
    AnkiWeb since, is older than the search reaches, and every note's time, asked once a day,
    finds it."""
    now = time.time()
    if not state.synced_at or state.synced_at // 86400 != now // 86400:
        return None
    reach = now - 86400 * days
    recent = []
    for nid, record in state.notes.items():
        if not record.anki_mod:
            return None
        if record.anki_mod >= reach:
            recent.append(nid)
    return sorted(recent) if len(recent) * 2 <= len(state.notes) else None


def _mod_times(client: AnkiConnect, notes: list[int]) -> tuple[object, str | None]:
    """The second request: those notes' modification times, or why Anki refused them."""
    answers = client.multi_or_raise(
        [("notesModTime", {"notes": notes})], may_fail=("notesModTime",)
    )
    return answers[0]


def _days_since(when: int) -> int:
    """`edited:N` counts whole days back from today; one more than have passed since `when`
    (a first two-way sync, with no `when`, asks for every edit of the last ten years)."""
    if not when:
        return 3650
    return max(1, math.ceil((time.time() - when) / 86400) + 1)


def is_mod_time(answer: object) -> bool:
    """`{noteId, mod}`; `{}` is a note Anki does not have."""
    return (
        type(answer) is dict
        and type(answer.get("noteId")) is int
        and type(answer.get("mod")) is int
    )
