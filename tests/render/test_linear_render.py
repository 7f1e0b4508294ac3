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


def test_200k_comment_markers_render_in_linear_time(renderer: Renderer) -> None:
    """Each `%%` looks its closer up among the `%%` offsets found once per text."""
    cases = {
        "%%" * 100_000: "",  # inline comments, one after another
        "%%\n" * 100_000: "",  # block comments, a line each
        "a %%b\n\n" * 40_000: "<p>a %%b</p>\n" * 39_999 + "<p>a %%b</p>",  # none closes
        "%%\n\n" + "x\n\n" * 50_000 + "%%": "",  # one block comment over 50k paragraphs
    }
    for field, expected in cases.items():
        with cpu_seconds_at_most(20):
            html = renderer.render_field(field, cloze=False, path="a.md", line=1).html
        assert html == expected, field[:20]


def test_many_embeds_of_sections_render_in_linear_time(tmp_path: Path) -> None:
    """Each section is found from indexes built once per file (not by a scan of the file per
    embed): 20k embeds of 20k headings of the very note."""
    count = 20_000
    (tmp_path / "big.md").write_text("".join(f"# H{i}\n\ntext {i} ^b{i}\n\n" for i in range(count)))
    renderer = Renderer(VaultConfig(vault_name="V"), tmp_path)
    for field in (
        "\n\n".join(f"![[#H{i}]]" for i in range(count)),
        " ".join(f"![[big#^b{i}]]" for i in range(count)),
    ):
        with cpu_seconds_at_most(60):
            out = renderer.render_field(field, cloze=False, path="big.md", line=1)
        assert out.warnings == () and f"text {count - 1}" in out.html


def test_embeds_that_double_at_each_level_stop_at_the_fields_limit(tmp_path: Path) -> None:
    """A note embedding the next one 50 times, five deep, would be 50^5 copies: the field
    embeds at most MAX_EMBEDDED_CHARS of text, and says where it stopped."""
    for level in range(6):
        (tmp_path / f"n{level}.md").write_text(f"![[n{level + 1}]] " * 50 + "\n")
    renderer = Renderer(VaultConfig(vault_name="V"), tmp_path)
    with cpu_seconds_at_most(60):
        out = renderer.render_field("![[n0]]", cloze=False, path="a.md", line=1)
    limit = [w for w in out.warnings if "would embed more than" in w.message]
    assert len(limit) == 1  # said once, where it stopped
