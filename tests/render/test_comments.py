"""Obsidian comments, `%%...%%`, are left out of the card (not inside code or math)."""

from __future__ import annotations

from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.render import Renderer
from notecards.render.anki_form import anki_form


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(VaultConfig(vault_name="V"), tmp_path)


def html(renderer: Renderer, markdown: str) -> str:
    out = renderer.render_field(markdown, cloze=False, path="a.md", line=1)
    assert anki_form(out.html) == out.html  # written in the form Anki's editor keeps
    return out.html


# markdown -> the stored HTML
COMMENTS = [
    ("before %%hidden%% after", "before  after"),
    ("%%only a comment%%", ""),
    ("a %%one%% b %%two%% c", "a  b  c"),
    ("ends with %%a comment%%", "ends with"),
    ("%%a%%%%b%%", ""),
    ("start %%runs over\ntwo lines%% end", "start  end"),  # within one paragraph
    ("**bold %%x%%** y", "<strong>bold </strong> y"),
    ("%%\nblock comment\n\nwith a blank line, *markdown* and [[links]]\n%%\nshown", "shown"),
    ("%%\n# heading\n- list\n%%", ""),
    ("para\n%%\nhidden\n%%\nnext", "<p>para</p>\n<p>next</p>"),  # a block comment ends it
    ("line %%inline%%\nnext line", "line<br>\nnext line"),
    (
        "> quote\n> %%\n> hidden\n> %%\n> shown",
        "<blockquote>\n<p>quote</p>\n<p>shown</p>\n</blockquote>",
    ),
    ("- a %%b%%\n- %%\n  c\n  %%", "<ul>\n<li>a</li>\n<li></li>\n</ul>"),
    # code and math keep their %%
    ("`a %%b%% c`", "<code>a %%b%% c</code>"),
    ("```\n%%\nx\n%%\n```", "<pre><code>%%\nx\n%%\n</code></pre>"),
    ("    %%indented code%%", "<pre><code>%%indented code%%\n</code></pre>"),
    ("$a %%b%% c$", "\\(a %%b%% c\\)"),
    ("$$\n%% tex comment\nx\n$$", "\\[%% tex comment\nx\\]"),
    ("`%%` then %%x%%", "<code>%%</code> then"),
    # a %% that closes nothing is text: a card never loses its text to one
    ("50%% off", "50%% off"),
    ("%%\nnever closed", "%%<br>\nnever closed"),
    ("%%%", "%%%"),
]


@pytest.mark.parametrize(("markdown", "expected"), COMMENTS)
def test_comments_are_left_out(renderer: Renderer, markdown: str, expected: str) -> None:
    assert html(renderer, markdown) == expected


def test_what_a_comment_hides_is_not_resolved(renderer: Renderer) -> None:
    """A broken image or embed inside a comment is no error and no warning: it is not shown."""
    field = renderer.render_field(
        "a %%![](missing.png) ![[Missing note]]%% b\n\n%%\n![[gone.png]]\n%%",
        cloze=False,
        path="a.md",
        line=1,
    )
    assert (field.html, field.media, field.deps, field.warnings) == ("a  b", (), (), ())


def test_a_problem_after_a_block_comment_is_at_its_own_line(renderer: Renderer) -> None:
    with pytest.raises(NotecardsError) as caught:
        renderer.render_field(
            "%%\none\ntwo\n%%\n![](missing.png)", cloze=False, path="a.md", line=4
        )
    assert [(p.where.path, p.line) for p in caught.value.problems] == [("a.md", 8)]
