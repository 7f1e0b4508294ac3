"""A note's frontmatter is read by the settings' bounded YAML reader: a bomb, a key written
twice or nesting thousands deep is a problem at the note's line, never a hang or a traceback,
and the note's cards are still read."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from notecards.cli import cli
from notecards.config import VaultConfig
from notecards.parse import parse_file
from tests.helpers.limits import wall_seconds_at_most
from tests.helpers.vault import block, write_vault

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]\n"
    for before, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.fixture
def fails_fast():
    """Stop the test after 3 s: frontmatter that is not refused at once would hang."""
    with wall_seconds_at_most(3):
        yield


@pytest.mark.parametrize(
    ("frontmatter", "line", "message"),
    [
        (BOMB + "tags: *i\n", 8, "aliases expand it past the limit"),
        ("tags: " + "[" * 5000 + "\n", 2, "nested more than 50 levels deep"),
        ("deck: A\ntags: [x]\ndeck: B\n", 4, "duplicate key 'deck' (first at line 2)"),
        ("meta:\n  a: 1\n  a: 2\n", 4, "duplicate key 'a' (first at line 3)"),
        ("tags: &t [a, *t]\n", 2, "alias *t stands inside its own anchor"),
        ("date: !!timestamp someday\n", 2, "'someday' is not a !!timestamp"),
    ],
)
def test_hostile_frontmatter_is_a_problem_at_the_notes_line(fails_fast, frontmatter, line, message):
    text = "---\n" + frontmatter + "---\n" + block("q", "a")
    parsed = parse_file(text, "n.md", VaultConfig(vault_name="v"))
    assert [(p.path, p.line) for p in parsed.errors] == [("n.md", line)]
    assert parsed.errors[0].message.startswith("frontmatter: ")
    assert message in parsed.errors[0].message
    assert len(parsed.notes) == 1


def test_a_frontmatter_bomb_fails_check_fast_at_its_line(fails_fast, tmp_path):
    write_vault(tmp_path, {"n.md": "---\n" + BOMB + "deck: *i\n---\n" + block("q", "a")})
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"{tmp_path}/n.md:8: frontmatter: its aliases expand it past the limit" in result.output


def test_frontmatter_keeps_reading_what_obsidian_writes():
    text = "---\ntags: [a, b/c]\naliases: &x [one]\nalso: *x\ndeck: D\n---\n" + block("q", "a")
    note = parse_file(text, "n.md", VaultConfig(vault_name="v")).notes[0]
    assert note.deck == "D" and {"a", "b::c"} <= set(note.tags)
