"""The renderer's `normalize` core rule (normalize.py) leaves a source as markdown-it's does."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_core import normalize
from markdown_it.rules_core.state_core import StateCore

from notecards.render.normalize import normalize_plugin

TEXTS = st.text(alphabet=st.sampled_from(["\r", "\n", "\0", "a", " ", "\ufffd", "é"]))


@given(TEXTS)
@example("a\r\nb\rc\n\0d\r")
@example("no breaks to change\n")
def test_the_source_is_markdown_its(text: str) -> None:
    md = MarkdownIt().use(normalize_plugin)
    ours, stock = StateCore(text, md, {}), StateCore(text, md, {})
    md.core.ruler.getRules("")[0](ours)
    normalize(stock)
    assert ours.src == stock.src
