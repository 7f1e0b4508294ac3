"""Whatever a vault holds, parsing and rendering fail only with NotecardsError."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from notecards.config import VaultConfig
from notecards.parse import parse_file
from notecards.problems import NotecardsError
from notecards.render import Renderer
from tests.helpers.paths import REPO
from tests.helpers.vault import with_id

SEEDS = [
    (REPO / "notes" / "LLM post-training.md").read_text(encoding="utf-8"),
    *(
        p.read_text(encoding="utf-8")
        for p in sorted((REPO / "tests/fixtures/vaults").rglob("*.md"))
    ),
]
FRAGMENTS = [
    "START",
    "END",
    "STARTI [Basic] ",
    " ENDI",
    "<!--ID: 12-->",
    "ID: 3",
    "Tags: a b",
    "Tags: x <!--ID: 4-->",
    "Back:",
    "Front:",
    "Basic",
    "Cloze",
    "Basci",
    "DELETE",
    "TARGET DECK",
    "FILE TAGS: t",
    "FROZEN - Basic:",
    "---",
    "```",
    "~~~",
    "$",
    "$$",
    "\\$",
    "`",
    "{",
    "}",
    "{{c1::",
    "==",
    "#tag",
    "# H",
    "![[x.png]]",
    "[[Note#H|a]]",
    "\r\n",
    "\r",
    "\t",
    "\ufeff",
    "notecards://demo/",
    "Q: ",
    "A: ",
]
CONFIGS = [
    VaultConfig(vault_name="v"),
    VaultConfig(
        vault_name="v",
        curly_cloze=True,
        highlights_to_cloze=True,
        add_context=True,
        add_file_link=True,
        add_obsidian_tags=True,
        custom_regexps={"Basic": r"^Q: (.+)\nA: (.+)", "Cloze": r"^(.*\{.*)$"},
    ),
]


@st.composite
def vault_text(draw) -> str:
    lines = draw(st.sampled_from(SEEDS)).split("\n")
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "splice"]))
        if action == "delete" and lines:
            del lines[min(at, len(lines) - 1)]
        elif action == "insert":
            lines.insert(at, draw(st.sampled_from(FRAGMENTS)))
        elif lines:
            i = min(at, len(lines) - 1)
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut] + draw(st.sampled_from(FRAGMENTS)) + lines[i][cut:]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines)


def parse_and_render(text: str, config: VaultConfig, root: Path) -> None:
    parsed = parse_file(text, "f.md", config)
    renderer = Renderer(config, root)
    for note in parsed.notes:
        with contextlib.suppress(NotecardsError):  # bad input is fine; anything else fails
            renderer.render(note)


@pytest.fixture(scope="module")
def empty_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root of the fuzz tests' own: what renders must not depend on other tests' files."""
    return tmp_path_factory.mktemp("empty_vault")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=vault_text(), config_index=st.integers(0, len(CONFIGS) - 1))
def test_mutated_vault_text(empty_vault, text, config_index):
    parse_and_render(text, CONFIGS[config_index], empty_vault)


@settings(max_examples=150, deadline=None)
@given(text=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=60).map("".join))
def test_random_text(empty_vault, text):
    for config in CONFIGS:
        parse_and_render(text, config, empty_vault)


@settings(max_examples=100, deadline=None)
@given(text=vault_text())
def test_a_written_id_is_read_back(text):
    """Writing each new note's ID into its slot gives notes that carry those IDs."""
    config = CONFIGS[0]
    parsed = parse_file(text, "f.md", config)
    assume(not parsed.errors)  # build and sync write no ID into a vault with errors
    notes = parsed.notes
    for number, note in sorted(
        enumerate(notes), key=lambda n: -n[1].id_slot.offset if n[1].id_slot else 0
    ):
        if note.id_slot is not None:
            text = with_id(text, note, 900 + number)
    again = parse_file(text, "f.md", config).notes
    assert len(again) == len(notes)
    assert all(n.note_id is not None for n in again)
