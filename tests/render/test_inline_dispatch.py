"""`InlineDispatch` parses exactly as markdown-it's own inline parser does.

Two Renderers of one vault, one as it is and one whose MarkdownIt keeps the stock
`ParserInline` (the hook undone), parse the same text: every parse (embedded text included)
must give the same tokens, children and all, and leave the same env, and the fields the same
HTML and problems. The texts: hypothesis' mixes of what inline rules react to, every field
(and whole file) of the notes in notes/, tests/fixtures and O2A's suites, and the edge cases
of nesting. Each rule's declared start characters are checked on their own as well.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

import notecards.render.renderer as renderer_module
from notecards.config import VaultConfig
from notecards.parse import parse_file
from notecards.problems import NotecardsError
from notecards.render.cloze import ENV_IS_CLOZE
from notecards.render.inline_dispatch import InlineDispatch, _declared
from notecards.render.renderer import Renderer
from tests.helpers.paths import FIXTURES, SHARED, USER_NOTES

CONFIG = VaultConfig(vault_name="v", curly_cloze=True, highlights_to_cloze=True)
PIECES = [
    *("*", "_", "**", "__", "~~", "~", "==", "`", "``", "$", "$$", "\\(", "\\)", "\\[", "\\]"),
    *("[", "]", "(", ")", "[[", "]]", "![[", "![", "^[", "[^1]", "[^1]: note\n", "%%"),
    *("{{c1::", "{", "}", "}}", "<b>", "</b>", "&amp;", "&#35;", "&", "\\", "\\*", "!", "|"),
    *("<http://x>", "<a@b.c>", "(u)", "(<u> 't')", "#", "-", ":", "\n", "  \n", "\n\n", " "),
    *("a", "b1", "x y", "5", "é", "😀", "\t", "- ", "> ", "1. ", "| a | b |\n|---|---|\n"),
    *("[[note]]", "[[note#Head|alias]]", "![[img.png|20]]", "![[note]]", "$x$", "$$y$$"),
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
NESTING = [
    "[" * 25 + "a" + "]" * 25 + "(u)",
    "[" * 21 + "x" + "](y)" * 21,
    "*" * 30 + "a" + "*" * 30,
    "^[" * 22 + "n" + "]" * 22,
    "==a **b [c ^[d `e` $f$ {g}] h](u) i** j==",
    "> " * 30 + "**a** [b](c)",
]


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vault")
    (root / "note.md").write_text("# Head\n\ntext ^block\n", encoding="utf-8")
    (root / "img.png").write_bytes(b"x")
    return root


def stock_renderer(monkeypatch: pytest.MonkeyPatch, root: Path) -> Renderer:
    """A Renderer whose MarkdownIt is configured as ours, but keeps markdown-it's parser."""
    with monkeypatch.context() as patch:
        patch.setattr(renderer_module, "InlineDispatch", lambda parser: parser)
        renderer = Renderer(CONFIG, root)
    assert not isinstance(renderer._md.inline, InlineDispatch)
    return renderer


def comparable(value: object) -> object:
    """A parse's tokens or env as plain values, in order; a state (a memo's key, in env) as
    its text and range."""
    if isinstance(value, dict):
        return [(comparable(key), comparable(item)) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    if isinstance(value, Token):
        return comparable(value.as_dict())
    if isinstance(value, StateInline):
        return ("state", value.src, value.pos, value.posMax)
    return copy.deepcopy(value)


def recorded(renderer: Renderer) -> list[tuple[str, list[dict], dict]]:
    """Each parse the renderer makes from now on: its text, tokens and env just after."""
    parses: list[tuple[str, list[dict], dict]] = []
    parse = renderer._md.parse

    def recording(src: str, env: dict | None = None) -> list[Token]:
        tokens = parse(src, env)
        parses.append((src, comparable(tokens), comparable(env)))
        return tokens

    renderer._md.parse = recording  # type: ignore[method-assign]
    return parses


@pytest.fixture(scope="module")
def pair(vault: Path) -> Iterator[tuple[Renderer, Renderer]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield Renderer(CONFIG, vault), stock_renderer(monkeypatch, vault)


def rendered(renderer: Renderer, markdown: str, cloze: bool) -> object:
    try:
        return renderer.render_field(markdown, cloze=cloze, path="deck.md", line=3)
    except NotecardsError as error:
        return error.problems


def assert_same(ours: Renderer, stock: Renderer, markdown: str) -> None:
    assert isinstance(ours._md.inline, InlineDispatch)
    for cloze in (False, True):
        our_parses, stock_parses = recorded(ours), recorded(stock)
        assert rendered(ours, markdown, cloze) == rendered(stock, markdown, cloze)
        assert our_parses == stock_parses
        assert our_parses, "the field was parsed"
        del ours._md.parse, stock._md.parse


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_mixes_of_inline_syntax_parse_as_stock(pair: tuple[Renderer, Renderer], text: str):
    assert_same(*pair, text)


@pytest.mark.parametrize("text", NESTING)
def test_deep_nesting_parses_as_stock(pair: tuple[Renderer, Renderer], text: str) -> None:
    assert_same(*pair, text)


def corpus(folder: Path) -> Iterator[str]:
    """Every markdown file's text, and every field of the notes in it."""
    for path in sorted(folder.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        yield text
        for note in parse_file(text, path.name, CONFIG).notes:
            yield from note.fields.values()


@pytest.mark.parametrize("name", ["notes", "fixtures", "o2a"])
def test_every_field_of_the_corpus_parses_as_stock(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    folder = {"notes": USER_NOTES, "fixtures": FIXTURES, "o2a": SHARED / "compat"}[name]
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (../shared is not in a fresh clone)")
    ours, stock = Renderer(CONFIG, folder), stock_renderer(monkeypatch, folder)
    texts = list(corpus(folder))
    assert texts
    for text in texts:
        assert_same(ours, stock, text)


def rule_states(text: str) -> Iterator[tuple[StateInline, int]]:
    md = Renderer(CONFIG, Path("/nonexistent"))._md
    for pos in range(len(text)):
        state = StateInline(text, md, {ENV_IS_CLOZE: True}, [])
        state.pos = pos
        yield state, pos


def snapshot(state: StateInline) -> tuple:
    return (
        state.pos,
        state.posMax,
        state.pending,
        state.level,
        comparable(state.tokens),
        list(state.delimiters),
        dict(state.cache),
        comparable(state.env),
    )


@settings(max_examples=100, deadline=None)
@given(TEXTS.filter(bool), st.booleans())
def test_a_rule_changes_nothing_where_it_cannot_start(text: str, silent: bool) -> None:
    """What the dispatch relies on: a rule with declared characters, at any other, returns
    False and leaves the state as it was."""
    rules = Renderer(CONFIG, Path("/nonexistent"))._md.inline.ruler.getRules("")
    declared = [(rule, _declared(rule)) for rule in rules if _declared(rule) is not None]
    assert len(declared) >= 16  # markdown-it's, the plugins' and ours
    for state, pos in rule_states(text):
        before = snapshot(state)
        for rule, chars in declared:
            if text[pos] in chars:
                continue
            assert rule(state, silent) is False, (rule, pos)
            assert snapshot(state) == before, (rule, pos)


def test_rules_added_or_disabled_after_the_hook_count(
    monkeypatch: pytest.MonkeyPatch, vault: Path
) -> None:
    """A rule that declares no characters is tried where the stock parser tries it (here
    ahead of `text`: where a text run stops, not inside one); a rule disabled is not; a
    terminator added stops the text there."""

    def shout(state: StateInline, silent: bool) -> bool:
        if state.src[state.pos] != "w":
            return False
        if not silent:
            state.push("shout", "", 0)
        state.pos += 1
        return True

    parsed = []
    for renderer in (Renderer(CONFIG, vault), stock_renderer(monkeypatch, vault)):
        md = renderer._md
        md.inline.ruler.before("text", "shout", shout)
        with_shout = md.inline.parse("a w-w [w](u) *w*", md, {}, [])
        md.disable("emphasis")
        no_emphasis = md.inline.parse("*b*", md, {}, [])
        md.inline.add_terminator_char("w")  # now text runs stop at `w` too
        stopped = md.inline.parse("awa", md, {}, [])
        parsed.append(comparable((with_shout, no_emphasis, stopped)))
    assert parsed[0] == parsed[1]
    with_shout, no_emphasis, stopped = parsed[0]
    assert str(with_shout).count("'shout'") == 3
    assert "em_open" not in str(no_emphasis)
    assert str(stopped).count("'shout'") == 1
