"""O2A's own test vault, read by notecards: the notes a real Anki held after O2A synced.

Each suite is laid out as O2A's harness lays it out (the suite's `.obsidian` at the
vault root, its files under `<suite>/`), so folder decks, scan directories and the
context breadcrumb see the same paths as in O2A. Notes are rendered and compared
through expected.json's `fields_text_rule`.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from notecards.parse import cloze_numbers
from notecards.render import Renderer
from notecards.vault import load_vault
from tests.helpers.paths import SHARED
from tests.helpers.vault import with_id

SUITES = SHARED / "compat" / "o2a-suites"
if not (SUITES / "expected.json").is_file():
    pytest.skip(
        "O2A's suites live in ../shared/compat/o2a-suites (not in a fresh clone); "
        "tests/fixtures/vaults cover the same behaviour",
        allow_module_level=True,
    )
EXPECTED = json.loads((SUITES / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(name for name in EXPECTED if not name.startswith("_"))

_BLOCK_TAGS = re.compile(
    r"<\s*/?\s*(?:br|p|div|h[1-6]|li|ul|ol|table|thead|tbody|tr|th|td|pre|hr|link)\b[^>]*>", re.I
)
_ANY_TAG = re.compile(r"<[^>]+>")


def fields_text(rendered_html: str) -> str:
    """expected.json's `fields_text_rule`, applied to notecards' HTML."""
    text = _ANY_TAG.sub("", _BLOCK_TAGS.sub(" ", rendered_html))
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def suite_vault(name: str, tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(SUITES / name, root / name, ignore=shutil.ignore_patterns(".obsidian"))
    if (SUITES / name / ".obsidian").is_dir():
        shutil.copytree(SUITES / name / ".obsidian", root / ".obsidian")
    for media in EXPECTED[name].get("media_present", []):
        # O2A's harness vault held the media file; the suite folder does not.
        (root / name / media).write_bytes(b"ID3 stand-in audio")
    if name == "ng_basic_update":  # the spec's edit between its two syncs
        path = root / name / "ng_basic_update.md"
        text = path.read_text(encoding="utf-8")
        edited = text.replace(
            "<!-- EDIT ABOVE THIS LINE FOR TEST -->", "This is updated content meow."
        )
        path.write_text(edited, encoding="utf-8")
    return root


def cards_of(rendered: dict[str, str], is_cloze: bool) -> int:
    """Anki's card count: one per cloze number; a cloze note without any still gets
    card 1 (image_sync asserts that), which `notecards check` reports as an error."""
    if not is_cloze:
        return 1
    return max(1, len(set().union(*(cloze_numbers(h) for h in rendered.values()))))


def rendered_notes(root: Path):
    vault = load_vault(root)
    assert vault.parsed.errors == []
    renderer = Renderer(vault.config, root)
    rendered = [renderer.render(note) for note in vault.parsed.notes]
    media = {Path(ref.source).name for r in rendered for ref in r.media}
    return vault, [(r.note, r.fields) for r in rendered], media


@pytest.mark.parametrize("name", [n for n in NAMES if n != "ng_delete_sync"])
def test_suite(name, tmp_path):
    suite = EXPECTED[name]
    root = suite_vault(name, tmp_path)
    vault, notes, media = rendered_notes(root)
    assert set(suite.get("media_present", [])) <= media
    expected = suite["expect"]
    assert len(notes) == suite.get("expect_note_count", len(expected))

    by_file: dict[str, list] = defaultdict(list)
    for note, rendered in notes:
        by_file[note.path.removeprefix(f"{name}/")].append((note, rendered))
    cards_by_deck: Counter[str] = Counter()
    for note, rendered in notes:
        is_cloze = vault.config.note_types[note.note_type].is_cloze
        cards_by_deck[note.deck] += cards_of(rendered, is_cloze)
    assert dict(cards_by_deck) == suite["expect_card_count_by_deck"]

    seen: Counter[str] = Counter()
    for want in expected:
        note, rendered = by_file[want["source_file"]][seen[want["source_file"]]]
        seen[want["source_file"]] += 1
        where = f"{note.path}:{note.start_line}"
        assert note.deck == want["deck"], where
        if want.get("note_type_asserted", True):
            assert note.note_type == want["note_type"], where
        assert set(want["tags_include"]) <= set(note.tags), where
        if "tags_count" in want:
            assert len(note.tags) == want["tags_count"], where
        for field_name, text in want.get("fields_text", {}).items():
            assert fields_text(rendered[field_name]) == text, (where, field_name)
        for field_name, text in want.get("fields_contains_text", {}).items():
            assert text in fields_text(rendered[field_name]), (where, field_name)
        if "cards" in want:
            assert cards_of(rendered, True) == want["cards"], where


def test_delete_flow(tmp_path):
    """ng_delete_sync: after the first sync the block has an ID; replacing a line with
    DELETE makes it a deletion of that note and no note at all."""
    suite = EXPECTED["ng_delete_sync"]
    root = suite_vault("ng_delete_sync", tmp_path)
    path = root / "ng_delete_sync" / "ng_delete_sync.md"
    vault, notes, _ = rendered_notes(root)
    (first,) = suite["expect_after_first_sync"]
    ((note, rendered),) = notes
    assert fields_text(rendered["Front"]) == first["fields_text"]["Front"]

    text = path.read_text(encoding="utf-8")
    text = with_id(text, note, 1234)
    path.write_text(text.replace("<!-- REPLACE ME FOR TEST -->", "DELETE"), encoding="utf-8")
    parsed = load_vault(root).parsed
    assert len(parsed.notes) == suite["expect_note_count"] == 0
    assert [d.note_id for d in parsed.deletions] == [1234]
