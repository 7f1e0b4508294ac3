"""pull_field: one field edited in Anki comes home as the edit, placed on the author's text,
and renders back to what Anki holds; an edit of plain words is placed from the HTML's own text,
without converting the fields back to markdown."""

from __future__ import annotations

import pytest

from notecards.config import VaultConfig
from notecards.pull import field_pull
from notecards.pull.field_pull import Pulled, pull_field
from notecards.pull.html_to_markdown import vault_html_to_markdown
from notecards.render import Renderer, compare
from notecards.render.compare import shows_the_same

CONFIG = VaultConfig(vault_name="V")
# The author's own spelling, which a conversion would not give back: `_` emphasis, `+`
# markers, a wrapped line.
MARKDOWN = (
    "The loss _pushes up_ the chosen answer\nand pushes down the rejected one.\n\n"
    "+ first point\n+ second point with $x^2$"
)


class Converter:
    """The real converter, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, html: str) -> str:
        self.calls += 1
        return vault_html_to_markdown(html, CONFIG, cloze=False)


@pytest.fixture
def render(tmp_path):
    renderer = Renderer(CONFIG, tmp_path)
    return lambda markdown: renderer.render_field(markdown, cloze=False, path="a.md", line=1).html


def _pulled(render, markdown: str, edit) -> tuple[Pulled, int]:
    base = render(markdown)
    anki = edit(base)
    assert anki != base
    convert = Converter()
    result = pull_field(markdown, base, anki, render, convert)
    assert isinstance(result, Pulled) and result.how == "patch"
    assert shows_the_same(render(result.markdown), anki)
    return result, convert.calls


def test_a_word_fixed_in_anki_is_placed_from_the_html_without_converting(render):
    result, conversions = _pulled(
        render, MARKDOWN, lambda html: html.replace("chosen", "preferred")
    )
    assert result.markdown == MARKDOWN.replace("chosen", "preferred")
    assert conversions == 0


def test_a_word_fixed_in_anki_is_told_and_placed_without_parsing_the_field(render, monkeypatch):
    """A typo fixed in Anki is in the form Anki's editor keeps already: neither telling that
    it differs from what was pushed nor placing it parses Anki's field into that form."""
    base = render(MARKDOWN)
    anki = base.replace("chosen", "preferred")

    def parsed(html: str) -> str:
        raise AssertionError(f"parsed: {html[:40]}")

    monkeypatch.setattr(compare, "anki_form", parsed)
    monkeypatch.setattr(field_pull, "anki_form", parsed)
    assert not compare.shows_as_rendered(base, anki)
    result = pull_field(MARKDOWN, base, anki, render, Converter())
    assert result == Pulled(MARKDOWN.replace("chosen", "preferred"), "patch")


@pytest.mark.parametrize(
    ("kept", "other", "apart"),
    [
        ("<p>a chosen one</p>", "<p>a preferred one</p>", True),
        ("<p>a chosen one</p>", "<p>a <b>chosen</b> one</p>", False),  # markup
        ('<a href="x">a</a>', '<a href="y">a</a>', False),  # in a tag
        ("<p>a &amp; b</p>", "<p>a &amxp; b</p>", True),  # (`&` then `&xp;`: shows otherwise)
        ("<!-- a > b --><p>c</p>", "<!-- a > bb --><p>c</p>", False),  # a comment
        ("<p>a</p>", "<p>a</p>", False),
    ],
)
def test_words_apart_is_a_change_of_plain_words_in_a_text(kept, other, apart):
    """Such a change always shows: told without parsing either field."""
    assert compare.words_apart(kept, other) is apart
    if apart:
        assert not compare.shows_the_same(kept, other)


@pytest.mark.parametrize(
    ("old", "new"),
    [("second point", "second, longer point"), ("rejected one.", "rejected one. Or more.")],
    ids=["in a list item", "a sentence added"],
)
def test_words_added_keep_the_authors_spelling(render, old, new):
    result, conversions = _pulled(render, MARKDOWN, lambda html: html.replace(old, new))
    assert result.markdown == MARKDOWN.replace(old, new)
    assert conversions == 0


def _second_edited(html: str) -> str:
    """`html` with "words here" made "words there" at its last place."""
    head, tail = html.rsplit("words here", 1)
    return head + "words there" + tail


def test_a_word_whose_text_is_twice_in_the_field_lands_where_it_was_edited(render):
    """The text around the edit is as often in the markdown as in the HTML: the edit goes to
    the same one of them, from the HTML's own text (a pull of generated cards converted one
    field in five for this)."""
    markdown = "the same words here\n\nthe same words here"
    result, conversions = _pulled(render, markdown, _second_edited)
    assert result.markdown == "the same words here\n\nthe same words there"
    assert conversions == 0


def test_a_word_whose_text_the_markdown_has_in_another_order_is_not_placed_there(render):
    """A footnote's text is rendered after the paragraphs that follow its definition: the
    same place in the markdown is another text, which the rendering tells; the fields are
    converted instead, and the edit lands on the text the person edited."""
    markdown = "x[^1]\n\n[^1]: the same words here\n\nthe same words here"
    base = render(markdown)
    anki = base.replace("words here", "words there", 1)  # the paragraph's, shown first
    convert = Converter()
    result = pull_field(markdown, base, anki, render, convert)
    assert isinstance(result, Pulled) and shows_the_same(render(result.markdown), anki)
    assert "[^1]: the same words here" in result.markdown and convert.calls == 2


def test_an_edit_of_markup_is_placed_by_converting(render):
    result, conversions = _pulled(
        render, MARKDOWN, lambda html: html.replace("the rejected", "the <b>rejected</b>")
    )
    assert "the <b>rejected</b> one" in result.markdown
    assert result.markdown.startswith("The loss _pushes up_")
    assert conversions == 2


@pytest.mark.parametrize(
    ("rendered", "anki", "same"),
    [
        ("<ul>\n<li>a</li>\n</ul>\n<p>typed</p>", "<ul>\n<li>a</li>\n</ul>typed", True),
        ("<p>typed <b>x</b><br>\nmore</p>\n<hr>", "typed <b>x</b><br>\nmore\n<hr>", True),
        ("<h2>T</h2>\n<p>a</p>\n<p>b</p>", "<h2>T</h2>a<p>b</p>", True),
        ("<ul>\n<li>a</li>\n</ul>\n<p>typed</p>", "<ul>\n<li>a</li>\n</ul>typed!", False),
        ("<ul>\n<li>a</li>\n</ul>\n<p>typed</p>", "<ul>\n<li>a</li>\n<li>typed</li>\n</ul>", False),
        ("alone", "<p>alone</p>", False),  # (no block beside it: as before)
        ("<p>x</p>\n<p>y</p>", "<p>x</p><b>y</b>", False),
    ],
)
def test_text_bare_beside_blocks_shows_as_its_paragraph(rendered, anki, same):
    """What Anki's editor leaves bare between blocks is the paragraph markdown writes there
    (render/compare.py); nothing else about it is."""
    assert shows_the_same(rendered, anki) is same
