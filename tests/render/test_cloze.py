"""Cloze forms and their numbering (SYNTAX.md, Cloze; O2A's cloze suites)."""

from __future__ import annotations

from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.parse import cloze_numbers
from notecards.render import Renderer


def make(tmp_path: Path, *, curly: bool = True, highlights: bool = False) -> Renderer:
    config = VaultConfig(vault_name="v", curly_cloze=curly, highlights_to_cloze=highlights)
    return Renderer(config, tmp_path)


def cloze(renderer: Renderer, markdown: str) -> str:
    return renderer.render_field(markdown, cloze=True, path="c.md", line=1).html


NUMBERING = [
    ("A {{c1::native}} one", "A {{c1::native}} one"),
    ("{one} and {two}", "{{c1::one}} and {{c2::two}}"),
    ("{2:b} then {1:a}", "{{c2::b}} then {{c1::a}}"),
    ("{2|b} {3|c} {1|a}", "{{c2::b}} {{c3::c}} {{c1::a}}"),
    ("{c1:a} {c2:b}", "{{c1::a}} {{c2::b}}"),
    ("{c1|a} {c2|b}", "{{c1::a}} {{c2::b}}"),
    # unnumbered ones count from 1 on their own, whatever explicit numbers say
    ("{a} {b} {2:c} {c1|d}", "{{c1::a}} {{c2::b}} {{c2::c}} {{c1::d}}"),
    ("{2:x} {y}", "{{c2::x}} {{c1::y}}"),
    ("{**bold** text}", "{{c1::<strong>bold</strong> text}}"),  # markdown inside a cloze
    ("{$\\frac{3}{4}$}", "{{c1::\\(\\frac{3}{4}\\)}}"),  # braces in math untouched
    ("$\\frac{a}{b}$ and `{x}`", "\\(\\frac{a}{b}\\) and <code>{x}</code>"),
    ("\\{literal\\}", "{literal}"),  # escaped braces stay text
    ("{} empty", "{} empty"),
    ("{unclosed", "{unclosed"),
    ("with {{c3::Anki}}'s form and {2:x}", "with {{c3::Anki}}'s form and {{c2::x}}"),
    ("==h== stays a highlight", "<mark>h</mark> stays a highlight"),
]


@pytest.mark.parametrize(("markdown", "expected"), NUMBERING)
def test_curly_cloze(tmp_path: Path, markdown: str, expected: str) -> None:
    assert cloze(make(tmp_path), markdown) == expected


@pytest.mark.parametrize(
    "markdown, expected",
    [
        ("==a {{ b==", "<mark>a {{ b</mark>"),
        ("[x {{ y](https://e.com)", '<a href="https://e.com">x {{ y</a>'),
        ("a {{ b", "a {{ b"),
    ],
)
def test_an_unclosed_double_brace_is_written_once(tmp_path: Path, markdown: str, expected: str):
    """A scan for a highlight's or a link's end passes over `{{` and writes nothing: it was
    written twice, once before the highlight or link."""
    assert cloze(make(tmp_path), markdown) == expected


def test_numbering_restarts_for_each_field(tmp_path: Path) -> None:
    renderer = make(tmp_path)
    assert cloze(renderer, "{a} {b}") == "{{c1::a}} {{c2::b}}"
    assert cloze(renderer, "{c}") == "{{c1::c}}"


HIGHLIGHTS = [
    ("This must be ==test2== !!", "This must be {{c1::test2}} !!"),
    # O2A's quirk, asserted by its cloze_highlight suite: three colons
    ("a ==c1::test==.\nb ==c2::meow== !", "a {{c1:::test}}.<br>\nb {{c2:::meow}} !"),
    ("==x== and {y}", "{{c1::x}} and {{c2::y}}"),  # one counter for both forms
    ("`==code==` $a==b$", "<code>==code==</code> \\(a==b\\)"),
    ("== spaced ==", "== spaced =="),
]


@pytest.mark.parametrize(("markdown", "expected"), HIGHLIGHTS)
def test_highlights_to_cloze(tmp_path: Path, markdown: str, expected: str) -> None:
    assert cloze(make(tmp_path, highlights=True), markdown) == expected


def test_curly_off_leaves_braces_but_native_clozes_pass(tmp_path: Path) -> None:
    renderer = make(tmp_path, curly=False)
    assert cloze(renderer, "{x} and {{c1::y}}") == "{x} and {{c1::y}}"


def test_non_cloze_note_types_keep_braces_and_highlights(tmp_path: Path) -> None:
    renderer = make(tmp_path, highlights=True)
    out = renderer.render_field("{x} ==y==", cloze=False, path="b.md", line=1).html
    assert out == "{x} <mark>y</mark>"


CARD_NUMBERS = [
    ("no cloze here", set()),
    ("{{c1::a}} {{c2::b}} {{c1::c}}", {1, 2}),
    ("<b>{{c12::x}}</b> {{c3::y::hint}}", {3, 12}),
    ("{{c::bad}} {c1::single}", set()),
]


@pytest.mark.parametrize(("text", "numbers"), CARD_NUMBERS)
def test_cloze_numbers(text: str, numbers: set[int]) -> None:
    assert cloze_numbers(text) == numbers


def test_card_count_of_rendered_curly_clozes(tmp_path: Path) -> None:
    out = cloze(make(tmp_path), "{a} {b} {2:c} {c1|d} {5:e}")
    assert cloze_numbers(out) == {1, 2, 5}
