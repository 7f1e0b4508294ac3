"""The parser states of `notecards/render/states.py` give markdown-it's own tokens.

Two parsers built by `Renderer._markdown`, one with markdown-it's `StateBlock` and
`StateInline` kept, parse the same text: their token streams (every field of every token,
children included) must be equal, on mixes of block and inline syntax and on every note of
notes/ and tests/fixtures. An emphasis run's neighbours are classed as markdown-it classes
them, for any character.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.render import Renderer, inline_dispatch, renderer, states
from notecards.render.states import FastParserBlock, FastStateInline, make_token
from notecards.vault import load_vault
from tests.helpers.paths import FIXTURES, USER_NOTES
from tests.helpers.render_env import field_env

CONFIG = VaultConfig(vault_name="v", curly_cloze=True, highlights_to_cloze=True)
PIECES = [
    *("*", "_", "**", "__", "***", "~~", "~", "==", "`", "$", "$$", "[", "](u)", "[[n]]", "^[f]"),
    *("{", "}", "{{c1::", "}}", "<b>", "</b>", "&amp;", "\\*", "!", "|", "%%", "a", "é", "😀"),
    *(" ", "\t", "\n", "\n\n", "  \n", "\xa0", "\u2003", ".", "(", ")", "-", "«", "»", "¿"),
    *("# ", "- ", "1. ", "> ", "> [!note] T\n", "```\n", "    code\n", "| a | b |\n|---|---|\n"),
    *("[^1]", "[^1]: note\n", "- [ ] task\n", "---\n", "===\n", "<div>\n", "x ^id\n"),
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@pytest.fixture(scope="module")
def parsers(tmp_path_factory: pytest.TempPathFactory) -> tuple[MarkdownIt, MarkdownIt]:
    """The renderer's parser, and one built the same way with markdown-it's states."""
    root = tmp_path_factory.mktemp("vault")
    ours = Renderer(CONFIG, root)._md
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(renderer, "FastParserBlock", lambda parser: parser)
        stock = Renderer(CONFIG, root)._md
    assert isinstance(ours.block, FastParserBlock)
    assert not isinstance(stock.block, FastParserBlock)
    return ours, stock


def assert_same_tokens(
    parsers: tuple[MarkdownIt, MarkdownIt], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    ours, stock = parsers
    for cloze in (False, True):
        with monkeypatch.context() as patched:
            patched.setattr(inline_dispatch, "FastStateInline", StateInline)
            expected = [token.as_dict() for token in stock.parse(text, field_env(cloze))]
        assert [token.as_dict() for token in ours.parse(text, field_env(cloze))] == expected


def test_a_token_is_made_as_the_dataclass_makes_it() -> None:
    """`make_token` sets every field `Token` has, to what `Token(...)` sets."""
    names = ("type", "tag", "nesting", "attrs", "map", "level", "children", "content")
    names += ("markup", "info", "meta", "block", "hidden")
    assert tuple(field.name for field in dataclasses.fields(Token)) == names
    for nesting, level, block in ((1, 0, True), (0, 3, False), (-1, 2, True)):
        made = make_token("paragraph_open", "p", nesting, level, block)
        expected = Token("paragraph_open", "p", nesting, level=level, block=block)
        assert made == expected
        assert made.attrs is not made.meta  # each its own dict, as the dataclass makes them
        assert make_token("x", "", 0, 0, False).attrs is not made.attrs


def test_the_parsers_make_their_tokens_in_the_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """The renderer's block and inline tokens are made by `make_token` (so the comparisons
    here compare what it does)."""
    md = Renderer(CONFIG, Path("/nonexistent"))._md
    made: list[bool] = []

    def recording(ttype: str, tag: str, nesting: Literal[-1, 0, 1], level: int, block: bool):
        made.append(block)
        return make_token(ttype, tag, nesting, level, block)

    monkeypatch.setattr(states, "make_token", recording)
    tokens = md.parse("# a *b*\n\n- c\n", field_env(False))
    block_tokens = [t for t in tokens if t.block]
    inline_tokens = [c for t in tokens for c in t.children or ()]
    assert made.count(True) == len(block_tokens) and made.count(False) >= len(inline_tokens)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_mixes_of_syntax_parse_as_with_markdown_its_states(parsers, text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same_tokens(parsers, monkeypatch, text)


@pytest.mark.parametrize(
    "root", [USER_NOTES, *sorted(p for p in FIXTURES.iterdir() if p.is_dir())], ids=str
)
def test_the_notes_parse_as_with_markdown_its_states(parsers, root: Path) -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.md"))]
    with contextlib.suppress(NotecardsError):  # bad settings: the files' text still counts
        texts += [f for note in load_vault(root).parsed.notes for f in note.fields.values()]
    assert texts
    with pytest.MonkeyPatch.context() as monkeypatch:
        for text in texts:
            assert_same_tokens(parsers, monkeypatch, text)


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=3),
    st.sampled_from(["*", "**", "***", "_", "__", "~~"]),
    st.text(max_size=3),
    st.booleans(),
)
def test_an_emphasis_run_is_scanned_as_markdown_it_scans_it(
    before: str, run: str, after: str, split: bool
) -> None:
    """Any characters either side (Unicode punctuation, symbols, spaces, none)."""
    text = before + run + after
    md = MarkdownIt()
    for end in (len(text), len(before) + len(run)):  # the text's end, or a range's
        ours, stock = FastStateInline(text, md, {}, []), StateInline(text, md, {}, [])
        ours.posMax = stock.posMax = end
        assert ours.scanDelims(len(before), split) == stock.scanDelims(len(before), split)
