"""The parse cache (`.notecards/parse-cache.json`) and the fast fence/heading scan.

Both only make a no-op build fast: a cached parse must equal a fresh one, a changed
file or setting must be parsed again, and the line scan must find exactly what
markdown-it finds whenever it answers at all.
"""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import notecards.parse as parse_package  # (load_vault takes parse_file from it when it parses)
from notecards.bulk import release
from notecards.model import ParsedVault
from notecards.parse.layout import markdown_blocks, scan_blocks
from notecards.vault import Vault, cache_parses, load_vault, write_back
from notecards.vault.state_dir import PARSE_CACHE
from tests.helpers.paths import FIXTURES

# Lines that open, close or fake every construct the scan must tell apart.
LINES = [
    "```", "````", "~~~", "``` py", "```a`b", "~~~ x`y", "```   ", "~~~~~", "   ````  ", "  ~~~",
    "    ```", "\t```", "``` `", "# h", "## h ##", "#tag", "###### x", "####### x", "# #", "#",
    "# a #b", "  # h", "    # h", "# h \\#", "# h#", "#  x  ###  ", "#\tt", "\t# t", "\x0b# x",
    "- item", "- # h", "> # q", "> ```", "1) x", "  - y", "* * *", "---", "===", "text", "", "  ",
    "<!--ID: 1-->", "<div>", "<!--", "-->", "START", "Basic", "Back: x", "END", "$$", "a\r# b",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=25))
def test_line_scan_agrees_with_markdown_it(lines):
    found = scan_blocks(lines)
    if found is not None:
        assert found == markdown_blocks(lines)


def test_line_scan_answers_for_ordinary_cards():
    lines = [
        "# Topic", "TARGET DECK: ML", "START", "Basic", "what is **x**?", "Back: ", "## Detail ##",
        "- a $x$", "1) b", "", "$$", "x^2", "$$", "```python", "# not a heading", "~~~~", "```",
        "<!--ID: 17-->", "END", "~~~", "unclosed", "",
    ]  # fmt: skip
    found = scan_blocks(lines)
    assert found is not None and found == markdown_blocks(lines)
    code, headings = found
    assert [(h.line, h.level, h.title) for h in headings] == [(1, 1, "Topic"), (7, 2, "Detail")]
    assert code == {14, 15, 16, 17, 20, 21}


def vault_copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    return root


def parsed_of(root: Path) -> ParsedVault:
    """Load the vault and save its parse cache, as build and sync do."""
    vault = load_vault(root)
    vault.save_cache()
    return vault.parsed


def without_cache(root: Path) -> ParsedVault:
    (root / PARSE_CACHE).unlink(missing_ok=True)
    return parsed_of(root)


def rewrite_cache(root: Path, change) -> None:
    path = root / PARSE_CACHE
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document["files"])
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_cached_parse_equals_a_fresh_one(tmp_path):
    for name in ("migrated", "syntax", "broken", "scanned"):
        root = vault_copy(tmp_path, name)
        fresh = parsed_of(root)
        assert (root / PARSE_CACHE).is_file()
        assert parsed_of(root) == fresh, name


def test_the_cache_is_what_an_unchanged_file_is_read_from(tmp_path):
    root = vault_copy(tmp_path, "syntax")
    first = parsed_of(root)
    note = first.notes[0]

    def plant(files):
        files[note.path]["notes"][0][3] = "Planted::Deck"  # the stored deck

    rewrite_cache(root, plant)
    assert parsed_of(root).notes[0].deck == "Planted::Deck"
    assert without_cache(root) == first  # a deleted cache rebuilds the same notes
    assert (root / PARSE_CACHE).is_file()


def test_a_changed_file_is_parsed_again(tmp_path):
    root = vault_copy(tmp_path, "syntax")
    before = parsed_of(root)
    path = root / before.notes[0].path
    path.write_text(path.read_text(encoding="utf-8") + "\nSTART\nBasic\nnew one\nBack: b\nEND\n")
    after = parsed_of(root)
    assert len(after.notes) == len(before.notes) + 1
    assert {"Front": "new one", "Back": "b"} in [n.fields for n in after.notes]
    assert after == without_cache(root)


def test_changed_settings_parse_again(tmp_path):
    root = vault_copy(tmp_path, "syntax")
    parsed_of(root)
    (root / "notecards.yaml").write_text("default_deck: Elsewhere\n", encoding="utf-8")
    assert parsed_of(root) == without_cache(root)
    assert "Elsewhere" in {n.deck for n in parsed_of(root).notes}


def test_a_damaged_cache_is_ignored(tmp_path):
    root = vault_copy(tmp_path, "migrated")
    fresh = parsed_of(root)
    rewrite_cache(root, lambda files: files[next(iter(files))]["notes"].append(["half"]))
    assert parsed_of(root) == fresh
    (root / PARSE_CACHE).write_text("{not json", encoding="utf-8")
    assert parsed_of(root) == fresh


def test_loading_alone_writes_no_cache(tmp_path):
    """Only save_cache writes: `check` and dry runs leave a fresh vault without a state
    folder, and a built vault's cache as it was, however the Vault object goes away."""
    root = vault_copy(tmp_path, "syntax")
    load_vault(root)
    gc.collect()
    assert not (root / ".notecards").exists()
    parsed_of(root)
    before = (root / PARSE_CACHE).read_bytes()
    (root / "extra.md").write_text("START\nBasic\nq\nBack: a\nEND\n", encoding="utf-8")
    load_vault(root)  # a miss, never saved
    gc.collect()
    assert (root / PARSE_CACHE).read_bytes() == before


def _id_written_into_new_md(root: Path, vault: Vault) -> list[str]:
    """Write ID 1234 into new.md's block through the load's parse cache: the files written."""
    note = next(n for n in vault.parsed.notes if n.path == "new.md")
    result = write_back(
        root,
        vault.parsed.files,
        {(note.path, note.start_line): 1234},
        config=vault.config,
        notes=[note],
    )
    cache_parses(result.unparsed, vault.parse_cache, vault.config)
    return result.files_written


def test_written_back_text_is_learned_by_the_cache(tmp_path, monkeypatch):
    """After write-back puts an ID into a file, the next load reads it from the cache."""
    root = vault_copy(tmp_path, "syntax")
    (root / "new.md").write_text("START\nBasic\nq\nBack: a\nEND\n", encoding="utf-8")
    vault = load_vault(root)
    assert _id_written_into_new_md(root, vault) == ["new.md"]
    vault.save_cache()
    parsed: list[str] = []
    real_parse = parse_package.parse_file
    monkeypatch.setattr(
        parse_package,
        "parse_file",
        lambda text, rel, config: parsed.append(rel) or real_parse(text, rel, config),
    )
    again = load_vault(root).parsed
    assert parsed == []  # every file, the rewritten one too, came from the cache
    assert [n.note_id for n in again.notes if n.path == "new.md"] == [1234]
    monkeypatch.undo()
    assert again == without_cache(root)


def test_entries_encoded_ahead_are_saved_as_a_save_encodes_them(tmp_path):
    """A build encodes the entries while its workers render; a file written back after
    (its entry put anew) is saved as written, not as it was encoded."""
    root = vault_copy(tmp_path, "syntax")
    (root / "new.md").write_text("START\nBasic\nq\nBack: a\nEND\n", encoding="utf-8")
    vault = load_vault(root)
    assert vault.parse_cache is not None
    vault.parse_cache.encode()
    _id_written_into_new_md(root, vault)
    vault.save_cache()
    ahead = (root / PARSE_CACHE).read_text(encoding="utf-8")
    assert "1234" in cache_lines(root)["new.md"]
    (root / PARSE_CACHE).unlink()
    load_vault(root).save_cache()  # every file parsed as it is now, encoded at the save
    assert (root / PARSE_CACHE).read_text(encoding="utf-8") == ahead


def test_notes_changed_by_a_caller_do_not_reach_the_cache(tmp_path):
    root = vault_copy(tmp_path, "syntax")
    (root / "extra.md").write_text("START\nBasic\nq\nBack: a\nEND\n", encoding="utf-8")
    vault = load_vault(root)  # a miss for every file: each parse goes into the cache
    for note in vault.parsed.notes:
        note.fields.clear()
    vault.save_cache()
    fresh = parsed_of(root)  # hits: what was parsed, not what the caller did to it
    (root / "extra.md").write_text("START\nBasic\nq2\nBack: a\nEND\n", encoding="utf-8")
    vault = load_vault(root)  # hits but one: the cache will be written again
    for note in vault.parsed.notes:
        note.fields.clear()
    vault.save_cache()
    unchanged = [n for n in fresh.notes if n.path != "extra.md"]
    assert unchanged and all(n.fields for n in unchanged)
    assert [n for n in parsed_of(root).notes if n.path != "extra.md"] == unchanged


def cache_lines(root: Path) -> dict[str, str]:
    """The cache file's entry lines, by the path each names."""
    lines = (root / PARSE_CACHE).read_text(encoding="utf-8").split("\n")[1:-1]
    return {json.JSONDecoder().raw_decode(line)[0]: line.rstrip(",") for line in lines}


def test_a_save_keeps_the_lines_of_unchanged_files_as_read(tmp_path):
    """A one-file edit of a large vault encodes that file's entry alone: the others are
    written as read (a space planted in one survives; encoding it again would drop it)."""
    root = vault_copy(tmp_path, "syntax")
    parsed_of(root)
    lines = cache_lines(root)
    assert len(lines) == 3
    kept, edited = "fenced.md", "target.md"
    path = root / PARSE_CACHE
    planted = lines[kept].replace('"notes":[', '"notes": [', 1)
    assert planted != lines[kept]
    path.write_text(path.read_text(encoding="utf-8").replace(lines[kept], planted))
    (root / edited).write_text((root / edited).read_text() + "\nSTART\nBasic\nq\nBack: a\nEND\n")
    after = parsed_of(root)
    now = cache_lines(root)
    assert now[kept] == planted
    assert now[edited] != lines[edited] and '"q"' in now[edited]
    assert parsed_of(root) == after == without_cache(root)


def test_a_cache_of_another_layout_is_read_and_written_a_line_per_file(tmp_path):
    root = vault_copy(tmp_path, "syntax")
    fresh = parsed_of(root)
    rewrite_cache(root, lambda files: None)  # one line, as json.dumps writes it
    assert len((root / PARSE_CACHE).read_text(encoding="utf-8").splitlines()) == 1
    (root / "fenced.md").write_text((root / "fenced.md").read_text() + "\n")
    after = parsed_of(root)
    assert after.notes == fresh.notes
    assert len(cache_lines(root)) == 3
    assert parsed_of(root) == after == without_cache(root)


def collections_during(load) -> int:
    """How many times the cycle collector ran during `load()` (on again after it). Once at
    most where the load turns it off: the young objects' collection when it is back on."""
    runs = []

    def count(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(count)
    try:
        load()
    finally:
        gc.callbacks.remove(count)
    assert gc.isenabled()
    return len(runs)


def test_a_cached_vault_loads_without_the_cycle_collector(tmp_path):
    """Its objects are plain data: the collections their allocation sets off only walk them
    (bulk.py); a load with the collector on would run it dozens of times here. After, they
    are frozen (no later collection walks them) until released."""
    root = tmp_path / "v"
    root.mkdir()
    card = "START\nBasic\nq{}\nBack: a **b** $x$\nTags: t\nEND\n"
    for f in range(20):
        (root / f"f{f}.md").write_text("".join(card.format(f * 100 + i) for i in range(50)))
    parsed_of(root)
    release()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    loaded = []
    assert collections_during(lambda: loaded.append(load_vault(root))) <= 1  # (27 with it on)
    assert gc.get_freeze_count() > 10 * len(loaded[0].parsed.notes)  # out of later walks
    release()
    assert gc.get_freeze_count() == 0
