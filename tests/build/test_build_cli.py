"""`notecards build` as a user runs it; every package is read back by Anki's own importer."""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile

import pytest

from tests.helpers.build import run_build, snapshot_bytes
from tests.helpers.collection import AnkiCollection
from tests.helpers.paths import REPO
from tests.helpers.vault import block, write_vault

USER_IDS = {1764591468175, 1764591468178, 1764257200499}
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
INLINE_MATH = re.compile(r"\$([^$\n]+?)\$")


def formulas(markdown: str) -> tuple[list[str], list[str]]:
    """Every $$..$$ and $..$ body in the text (the user's note has no code spans)."""
    display = DISPLAY_MATH.findall(markdown)
    inline = INLINE_MATH.findall(DISPLAY_MATH.sub("", markdown))
    return display, inline


def test_users_vault_arrives_in_anki_with_its_ids_tags_and_math(tmp_path):
    vault = tmp_path / "notes"
    shutil.copytree(REPO / "notes", vault)
    out = tmp_path / "ml.apkg"
    result = run_build(str(vault), "-o", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        notes = anki.notes()
    assert set(notes) == USER_IDS
    for note in notes.values():
        assert note.tags == ["WS2526", "ml"] or note.tags == ["ml", "WS2526"]
    markdown = (vault / "LLM post-training.md").read_text(encoding="utf-8")
    blocks = markdown.split("START\n")[1:]
    display, inline = formulas("".join(blocks))
    assert display and inline
    stored = "".join(f for n in notes.values() for f in n.fields.values())
    for body in display:
        tex = html.escape(body.strip("\n"), quote=False)  # the editor keeps no newline there
        assert f"\\[{tex}\\]" in stored, body
    for body in inline:
        assert f"\\({html.escape(body, quote=False)}\\)" in stored, body


def test_new_card_gets_an_id_in_file_and_package(tmp_path):
    vault = write_vault(
        tmp_path / "v",
        {"a.md": "# t\n\n" + block("q1", "a1", note_id=5) + "\n" + block("q2", "a2")},
    )
    out = tmp_path / "v.apkg"
    result = run_build(str(vault), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (assigned,) = summary["ids_assigned"]
    assert (assigned["path"], assigned["line"]) == ("a.md", 11)  # the second START
    assert (
        summary["notes"] == 2 and summary["decks"] == ["Default"] and summary["output"] == str(out)
    )
    text = (vault / "a.md").read_text()
    assert text == "# t\n\n" + block("q1", "a1", note_id=5) + "\n" + block(
        "q2", "a2", note_id=assigned["id"]
    )
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        assert set(anki.notes()) == {5, assigned["id"]}


def test_bad_input_exits_1_names_file_line_and_writes_nothing(tmp_path):
    vault = write_vault(
        tmp_path / "v",
        {"good.md": block("q", "a"), "sub/bad.md": "intro\n\nSTART\nBasci\nq\nBack: a\nEND\n"},
    )
    before = snapshot_bytes(vault)
    out = tmp_path / "v.apkg"
    result = run_build(str(vault), "-o", str(out))
    assert result.exit_code == 1
    assert f"{vault}/sub/bad.md:4: unknown note type 'Basci'" in result.stderr
    assert not out.exists()
    assert snapshot_bytes(vault) == before


def test_unwritable_output_fails_cleanly_before_the_vault_is_touched(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a")})  # an ID to write back
    before = snapshot_bytes(vault)
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "v.apkg"  # its folder cannot exist, whoever runs the test
    result = run_build(str(vault), "-o", str(out))  # a traceback would propagate here
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {out}: ")
    assert len(result.stderr.splitlines()) == 1
    assert snapshot_bytes(vault) == before  # no ID written, no .notecards/ state
    assert not out.exists()


def test_dry_run_writes_nothing_and_reports_what_it_would_do(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q1", "a1") + block("q2", "a2", note_id=9)})
    before = snapshot_bytes(vault)
    out = tmp_path / "v.apkg"
    result = run_build(str(vault), "-o", str(out), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is True and summary["written"] is False
    assert [(a["path"], a["line"]) for a in summary["ids_assigned"]] == [("a.md", 1)]
    assert not out.exists()
    assert snapshot_bytes(vault) == before  # no ID, no .notecards/ state

    human = run_build(str(vault), "-o", str(out), "--dry-run")
    assert "a.md:1: would assign ID" in human.stdout
    assert not out.exists()


def test_unchanged_rebuild_leaves_package_alone(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q1", "a1")})
    out = tmp_path / "v.apkg"
    assert run_build(str(vault), "-o", str(out), "-q").exit_code == 0
    first = out.stat()
    again = run_build(str(vault), "-o", str(out), "--json")
    assert json.loads(again.stdout)["written"] is False
    assert out.stat().st_mtime_ns == first.st_mtime_ns

    shutil.rmtree(vault / ".notecards")  # the cache may go at any time: rebuilt, same notes
    assert json.loads(run_build(str(vault), "-o", str(out), "--json").stdout)["written"] is True


def test_default_output_is_named_after_the_vault(tmp_path, monkeypatch):
    vault = write_vault(tmp_path / "myvault", {"a.md": block("q", "a", note_id=3)})
    monkeypatch.chdir(tmp_path)
    assert run_build(str(vault), "-q").exit_code == 0
    assert (tmp_path / "myvault.apkg").is_file()


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_quiet_and_json_keep_stderr_clean(tmp_path, flag):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a", note_id=3)})
    result = run_build(str(vault), "-o", str(tmp_path / "o.apkg"), flag)
    assert result.exit_code == 0
    assert result.stderr == ""


def test_warnings_are_shown_but_do_not_stop_the_build(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a", note_id=3) + "stray\nEND\n"})
    out = tmp_path / "o.apkg"
    result = run_build(str(vault), "-o", str(out))
    assert result.exit_code == 0
    assert f"{vault}/a.md:9: warning: END without START" in result.stderr
    assert out.is_file()
    summary = json.loads(run_build(str(vault), "-o", str(out), "--json").stdout)
    assert summary["warnings"] == ["a.md:9: warning: END without START"]


def test_build_leaves_nothing_in_the_temp_folder(tmp_path, monkeypatch):
    """genanki's own write leaves its SQLite file behind; a build must not."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    vault = tmp_path / "notes"
    shutil.copytree(REPO / "notes", vault)
    result = run_build(str(vault), "-o", str(tmp_path / "ml.apkg"), "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ml.apkg").stat().st_size > 0
    assert list(scratch.iterdir()) == []
