"""A vault on disk: which files are read, how, and the notes they hold."""

from __future__ import annotations

import shutil

import pytest

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.vault import load_vault
from notecards.vault.files import markdown_files, read_markdown
from tests.helpers.paths import FIXTURES, USER_NOTES


def test_the_users_vault():
    vault = load_vault(USER_NOTES)
    assert vault.parsed.problems == []
    notes = vault.parsed.notes
    assert [n.note_id for n in notes] == [1764591468175, 1764591468178, 1764257200499]
    assert {n.tags for n in notes} == {("ml", "WS2526")}
    assert {n.deck for n in notes} == {"Default"}
    assert notes[1].fields["Front"].startswith("what is SFT?")
    assert "notecards://demo/sft" in notes[1].fields["Back"]


def test_scan_dir_and_ignore_globs():
    root = FIXTURES / "scanned"
    vault = load_vault(root)
    assert markdown_files(root, vault.config).paths == ["cards/a.md", "cards/deep/er/b.md"]
    assert [(n.deck, n.tags) for n in vault.parsed.notes] == [("Scanned", ("scanned",))] * 2


def test_hidden_app_folders_and_symlinks_outside_are_skipped(tmp_path):
    (tmp_path / "vault" / ".obsidian").mkdir(parents=True)
    (tmp_path / "vault" / ".obsidian" / "x.md").write_text("START\nBasic\nx\nEND\n")
    (tmp_path / "outside.md").write_text("START\nBasic\nx\nEND\n")
    (tmp_path / "vault" / "link.md").symlink_to(tmp_path / "outside.md")
    (tmp_path / "vault" / "n.md").write_text("")
    assert markdown_files(tmp_path / "vault", VaultConfig(vault_name="v")).paths == ["n.md"]


def test_o2a_features_in_a_migrated_vault():
    notes = load_vault(FIXTURES / "migrated").parsed.notes
    by_front = {next(iter(n.fields.values())): n for n in notes}
    capital = by_front["Capital of Italy?"]  # custom regexp + #tag
    assert capital.tags == ("geo", "from_o2a")
    assert capital.appendix == {"Back": "qa.md &gt; Capitals"}  # context
    assert by_front["Longest river in France?"].note_id == 1700000000001
    verbs = by_front["aller"]  # folder deck and tags, inherited by the subfolder
    assert (verbs.deck, verbs.tags) == ("Languages", ("fr", "words", "from_o2a"))
    frozen = by_front["Two plus two?"]
    assert frozen.appendix["Back"].startswith("<br>(asked in every quiz)")


def test_syntax_fixture():
    notes = load_vault(FIXTURES / "syntax").parsed.notes
    by_path = {}
    for note in notes:
        by_path.setdefault(note.path, []).append(note)
    assert [n.fields["Front"] for n in by_path["fenced.md"]] == ["A real card"]
    inline, block = by_path["target.md"]
    assert inline.fields == {"Front": "What is SFT?", "Back": "supervised fine-tuning"}
    assert inline.deck == block.deck == "ML::Lectures"
    assert block.tags == ("dpo", "lecture", "week1", "course::ml", "exam")
    (cloze,) = by_path["frontmatter.md"]
    assert (cloze.deck, cloze.tags) == ("Physics", ("physics", "optics"))


def test_duplicate_ids_are_reported_in_both_places():
    problems = load_vault(FIXTURES / "broken").parsed.problems
    duplicates = sorted((p.path, p.line) for p in problems if "duplicate ID" in p.message)
    assert duplicates == [("cards.md", 16), ("more.md", 5)]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"START\nBasic\nx\nEND\n", "utf-8"),
        (b"START\r\nBasic\r\nx\r\nEND\r\n", "utf-8"),
        (b"\xef\xbb\xbfSTART\nBasic\nx\nEND\n", "utf-8-sig"),
    ],
)
def test_read_markdown(tmp_path, data, encoding):
    (tmp_path / "n.md").write_bytes(data)
    text, snapshot = read_markdown(tmp_path, "n.md")
    assert snapshot.encoding == encoding
    assert text.encode(encoding) == data  # nothing lost: the text writes back byte for byte
    assert len(snapshot.digest) == 64


def test_a_file_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / "good.md").write_text("START\nBasic\nok\nEND\n")
    (tmp_path / "bad.md").write_bytes(b"fine\nstill fine\ncaf\xe9\n")
    with pytest.raises(NotecardsError):
        read_markdown(tmp_path, "bad.md")
    vault = load_vault(tmp_path)
    assert [(p.path, p.line) for p in vault.parsed.problems] == [("bad.md", 3)]
    assert [n.path for n in vault.parsed.notes] == ["good.md"]
    assert list(vault.parsed.files) == ["good.md"]


def test_crlf_vault_reads_like_lf(tmp_path):
    shutil.copytree(FIXTURES / "syntax", tmp_path / "lf")
    shutil.copytree(FIXTURES / "syntax", tmp_path / "crlf")
    for path in (tmp_path / "crlf").glob("*.md"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    lf, crlf = load_vault(tmp_path / "lf").parsed, load_vault(tmp_path / "crlf").parsed
    assert [(n.fields, n.tags, n.deck, n.start_line) for n in lf.notes] == [
        (n.fields, n.tags, n.deck, n.start_line) for n in crlf.notes
    ]
    # A new ID line goes in with the file's own line ending.
    slots = [n.id_slot.text for n in crlf.notes if n.id_slot and "\n" in n.id_slot.text]
    assert slots and all(text.count("\r\n") == text.count("\n") for text in slots)
