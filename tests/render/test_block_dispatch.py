"""The renderer's dispatching block parser (block_dispatch.py) gives markdown-it's own tokens.

Two parsers built by `Renderer._markdown`, one with markdown-it's `Ruler` kept, parse the same
text; their token streams (every field of every token, children included) must be equal: on
markdown built from the pieces that start or end blocks, and on every note and field of
notes/, tests/fixtures and O2A's suites.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.ruler import Ruler
from markdown_it.token import Token

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.render import Renderer, renderer
from notecards.render.block_dispatch import (
    DispatchingRuler,
    block_dispatch_plugin,
    first_characters,
)
from notecards.vault import load_vault
from tests.helpers.paths import FIXTURES, SHARED, USER_NOTES
from tests.helpers.render_env import field_env

O2A_SUITES = SHARED / "compat" / "o2a-suites"


@pytest.fixture(scope="module")
def parsers(tmp_path_factory: pytest.TempPathFactory) -> tuple[MarkdownIt, MarkdownIt]:
    """The renderer's parser, and one built the same way with markdown-it's own Ruler."""
    root = tmp_path_factory.mktemp("vault")
    config = VaultConfig(vault_name="v", curly_cloze=True, highlights_to_cloze=True)
    dispatching = Renderer(config, root)._md
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(renderer, "block_dispatch_plugin", lambda md: None)
        stock = Renderer(config, root)._md
    assert isinstance(dispatching.block.ruler, DispatchingRuler)
    assert type(stock.block.ruler) is Ruler
    return dispatching, stock


def _stream(tokens: list[Token]) -> list[dict]:
    """Every field of every token: type, tag, map, content, markup, info, attrs, nesting,
    level, meta, block, hidden, and the children, likewise."""
    return [token.as_dict() for token in tokens]


def assert_same_tokens(parsers: tuple[MarkdownIt, MarkdownIt], text: str) -> None:
    dispatching, stock = parsers
    for cloze in (False, True):
        expected = _stream(stock.parse(text, field_env(cloze)))
        assert _stream(dispatching.parse(text, field_env(cloze))) == expected, repr(text)


# -- the dispatch itself --------------------------------------------------------


def test_a_line_of_text_tries_only_the_rules_that_can_start_anywhere(parsers):
    """Every rule of the chain declares its first characters but those found by other lines
    (a table by its delimiter row, a setext heading by its underline) and the paragraph:
    a declaration gone missing would be slow, not wrong, so it is checked here."""
    ruler = parsers[0].block.ruler
    undeclared = [r.name for r in ruler.__rules__ if first_characters(r.fn) is None]
    assert undeclared == ["table", "lheading", "paragraph"]


def test_a_rule_added_later_without_a_declaration_is_tried_at_every_line():
    md = MarkdownIt("commonmark").use(block_dispatch_plugin)
    seen: list[str] = []

    def marker_rule(state, line, end, silent) -> bool:
        start = state.bMarks[line] + state.tShift[line]
        seen.append(state.src[start])
        return False

    md.block.ruler.before("table", "marker", marker_rule)
    md.parse("# h\n> q\n\nplain\n")
    assert {"#", ">", "p"} <= set(seen)


def test_a_rule_disabled_after_a_parse_is_no_longer_tried():
    """The dispatching chains are made anew when the rules change (a plugin added late)."""
    md = MarkdownIt("commonmark").use(block_dispatch_plugin)
    assert [t.type for t in md.parse("# h\n")][0] == "heading_open"
    md.disable("heading")
    assert [t.type for t in md.parse("# h\n")][0] == "paragraph_open"
    md.enable("heading")
    assert [t.type for t in md.parse("# h\n")][0] == "heading_open"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        "    code\n\n    more\n",
        "para\n    lazy\n",
        "a | b\n--|--\n1 | 2\n",  # a table is found by its next line
        "Title\n===\ntext\n---\n",
        "> [!note] T\n> body\nlazy\n",
        "- a\n  > q\n  - b\n\n    c\n1) x\n",
        "$$\nx\n$$\n%%\ngone\n%%\n",
        "[^1]: note\n[x]: http://u\n\n[x] and [^1]\n",
        "<div>\n*a*\n</div>\n\n<!-- c -->\n",
        "\t- tab\n \t> mixed\n",
        "text\n```\nfence interrupts\n```\n~~~\nopen",
        "- - -\n*\t*\t*\n_ _\n-- -\n- **bold** item\n**not a list**\n",  # a break, or not
        "1) a\n123456789. b\n1234567890. c\n-\tx\n-\n+ y\n",  # list markers, or not
        "a |\n-|-\n|\n|-|\nno pipe\n---\n",  # a table's header row needs a `|`
        "Title\n  ===  \n> q\n> ---\n- a\n  b\n  ==\ntext -\nmore\n",  # underlines
        "a\nb -\t\nc\n=\nd\n-=\ne\n=- \nf\n==\t \ng\n--",  # `-` and `=` ends, interleaved
    ],
)
def test_tokens_match_markdown_it_on_block_edge_cases(parsers, text):
    assert_same_tokens(parsers, text)


# -- markdown from block pieces -------------------------------------------------

INDENTS = ["", " ", "  ", "   ", "    ", "     ", "\t", " \t", "\t\t"]
CONTAINERS = ["", "> ", ">", "- ", "* ", "+ ", "1. ", "1) ", "2. ", "10) ", "-\t", "> - "]
BODIES = [
    *["text", "more *words*", "a | b", "x\\", "1.", "1)", "-", "+", "*", "> ", ""],
    *["#", "# h", "## h ##", "####### no", "#tag"],
    *["===", "---", "***", "___", "- - -", "* * *", "==", "--"],
    *["```", "```py", "````", "~~~", "~~~ info", "``` a`b"],
    *["$$", "$$x$$", "$$ x", "x $$", "\\[", "x\\]"],
    *["| a | b |", "|---|---|", "--- | ---", ":-: | -:", "|-", "| x |"],
    *["<div>", "</div>", "<!-- c -->", "-->", "<pre>", "</pre>", "<x-y a=1>", "<?p ?>"],
    *["[^1]: note", "[^1]:", "[x]: http://u", '[x]: <u> "t"', "[x]", "[^x]", "[y]:"],
    *["%%", "%% c %%", "%%c", "c%%", "[!note] T", "[!tip]- F"],
    *["[ ] task", "[x] done", "![[Note]]", "[[link]]", "^block-id", "{{c1::x}}"],
]
ORDERED = st.builds(lambda n, mark: f"{n}{mark} ", st.integers(0, 10**10), st.sampled_from(".)"))


def _lines(bodies: list[str]) -> st.SearchStrategy[str]:
    """A line: an indent, up to two container markers, one of `bodies`, maybe more text."""
    return st.builds(
        lambda indent, containers, body, tail: indent + "".join(containers) + body + tail,
        st.sampled_from(INDENTS),
        st.lists(st.sampled_from(CONTAINERS) | ORDERED, max_size=2),
        st.sampled_from(bodies),
        st.sampled_from(["", "", " ", " text", "  ", "\t"]),
    )


# Blocks found by their second line (a table's delimiter row, a setext underline), paired so
# that they come up often.
UNDERLINED = st.builds(
    "\n".join,
    st.tuples(
        _lines(["text", "a | b", "| a | b |", "*x*", "# h", "- item"]),
        _lines(["===", "---", "|---|---|", "--- | ---", ":-: | -:", "|-|", "-|-"]),
    ),
)
LINES = _lines(BODIES) | UNDERLINED


@settings(max_examples=600, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=14), st.sampled_from(["", "\n", "\n\n"]))
def test_tokens_match_markdown_it_on_block_pieces(parsers, lines, end):
    assert_same_tokens(parsers, "\n".join(lines) + end)


# -- real notes -----------------------------------------------------------------


def _texts(root: Path) -> list[str]:
    """Each markdown file's whole text and every field of its notes."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.md"))]
    try:
        notes = load_vault(root).parsed.notes
    except NotecardsError:  # bad settings (a fixture of them): the files' text still counts
        notes = []
    return texts + [field for note in notes for field in note.fields.values()]


def _vaults() -> list[Path]:
    vaults = [USER_NOTES, *sorted(p for p in FIXTURES.iterdir() if p.is_dir())]
    if O2A_SUITES.is_dir():
        vaults += sorted(p for p in O2A_SUITES.iterdir() if p.is_dir())
    return vaults


@pytest.mark.parametrize("root", _vaults(), ids=lambda p: p.name)
def test_tokens_match_markdown_it_on_the_notes(parsers, root):
    texts = _texts(root)
    assert texts
    for text in texts:
        assert_same_tokens(parsers, text)


def test_o2a_suites_are_compared():
    if not O2A_SUITES.is_dir():
        pytest.skip("O2A's suites live in ../shared/compat/o2a-suites (not in a fresh clone)")
    assert len([p for p in O2A_SUITES.iterdir() if p.is_dir()]) > 10
