"""Rendering takes time linear in the field: no rule searches the rest of the text afresh
from each of n openers (`[[`, `$$`, `{`, `==`). Each case runs under a CPU-time limit
several times what its linear run takes, and far below what the quadratic scan took."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.render import Renderer
from notecards.render.cloze import ENV_IS_CLOZE, cloze_plugin
from tests.helpers.limits import cpu_seconds_at_most


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(VaultConfig(vault_name="V"), tmp_path)


def test_200k_brackets_render_in_linear_time(renderer: Renderer) -> None:
    field = "[" * 200_000  # each `[[` searched the rest of the field for `]]`: 68 s
    with cpu_seconds_at_most(25):
        html = renderer.render_field(field, cloze=False, path="a.md", line=1).html
    assert html == field


def test_200k_display_math_openers_render_in_linear_time(renderer: Renderer) -> None:
    field = "$$a\n\n" * 40_000  # each `$$` read every line after it for a closing `$$`
    with cpu_seconds_at_most(20):
        html = renderer.render_field(field, cloze=False, path="a.md", line=1).html
    assert html.count("<p>$$a</p>") == 40_000


def test_display_math_still_closes_lines_later(renderer: Renderer) -> None:
    html = renderer.render_field("$$a\n\nb\n> c $$", cloze=False, path="a.md", line=1).html
    assert html == "\\[a\n\nb\n&gt; c \\]"


def test_cloze_closer_walks_step_each_position_once() -> None:
    """A walk for a cloze's `}` or `==` steps token by token; walks from many openers used to
    cover the same tokens again (up to markdown-it's nesting limit, 20 times over)."""
    md = MarkdownIt("commonmark").use(cloze_plugin, curly=True, highlights_to_cloze=True)
    step = md.inline.skipToken
    steps = 0

    def counted(state) -> None:
        nonlocal steps
        steps += 1
        step(state)

    md.inline.skipToken = counted
    for unit in ("a{", "==a`x`", "{==a`x`"):
        steps = 0
        field = unit * 10_000
        md.render(field, {ENV_IS_CLOZE: True})
        assert steps <= len(field), unit


def test_many_bad_references_in_one_field_are_found_in_linear_time(renderer: Renderer) -> None:
    """Each bad image's line was searched for from the field's start: quadratic in their number."""
    field = "![](missing.png)\n" * 20_000
    with cpu_seconds_at_most(20), pytest.raises(NotecardsError) as caught:
        renderer.render_field(field, cloze=False, path="a.md", line=1)
    assert [p.line for p in caught.value.problems] == list(range(1, 20_001))


def test_many_demo_links_in_one_field_are_replaced_in_linear_time(renderer: Renderer) -> None:
    """Each demo link was spliced out of the token list: a copy of the rest, each time."""
    field = "[run](notecards://demo/dpo) " * 40_000
    with cpu_seconds_at_most(20):
        html = renderer.render_field(field, cloze=False, path="a.md", line=1).html
    assert html.count("<code>notecards demo dpo</code>") == 40_000
