"""Markdown -> Anki HTML, one table per rendering rule (SYNTAX.md, Rendering)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notecards.config import BUILTIN_NOTE_TYPES, VaultConfig
from notecards.model import MediaRef, Note
from notecards.problems import NotecardsError
from notecards.render import Renderer
from tests.helpers.paths import REPO

SEED_NOTE = REPO / "notes" / "LLM post-training.md"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for name in ("LLM.md", "ml/loss function.md", "ml/deep/page.md", "img.png", "ml/local.png"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    (root / "sounds").mkdir()
    (root / "sounds" / "test.mp3").write_bytes(b"ID3")
    return root


@pytest.fixture
def renderer(vault: Path) -> Renderer:
    return Renderer(VaultConfig(vault_name="My Vault"), vault)


def html(renderer: Renderer, markdown: str, path: str = "deck.md") -> str:
    return renderer.render_field(markdown, cloze=False, path=path, line=1).html


# input markdown -> exact stored HTML
EXACT = [
    ("This is a test.", "This is a test."),  # a lone paragraph has no <p> (as O2A stores it)
    ("This is a test.\nAnd more.", "This is a test.<br>\nAnd more."),
    ("*i* **b** ~~s~~ ==h==", "<em>i</em> <strong>b</strong> <s>s</s> <mark>h</mark>"),
    ("`a $x$ b`", "<code>a $x$ b</code>"),  # $ inside code is not math
    ("cost \\$5", "cost $5"),  # \$ is a dollar
    ("$5 and $6", "$5 and $6"),  # currency, as Obsidian reads it
    ("Inline $x = 5$", "Inline \\(x = 5\\)"),
    ("$x$ is 5", "\\(x\\) is 5"),  # dollarmath's digit check misreads pos 0; ours does not
    ("Displayed $$z = 10$$", "Displayed \\[z = 10\\]"),
    ("$a<b \\& c>d$", "\\(a&lt;b \\&amp; c&gt;d\\)"),
    ("$\\{x_1 * y_2\\} \\\\ z$", "\\(\\{x_1 * y_2\\} \\\\ z\\)"),
    ("**b**$\\{X\\}$", "<strong>b</strong>\\(\\{X\\}\\)"),
    ("$\\left\\{ a | b \\right\\}$", "\\(\\left\\{ a | b \\right\\}\\)"),
    ("{x} stays {2:x}", "{x} stays {2:x}"),  # no cloze outside cloze note types
    ("[notecards demo dpo](notecards://demo/dpo)", "<code>notecards demo dpo</code>"),
    ("`[x](notecards://demo/nope)`", "<code>[x](notecards://demo/nope)</code>"),  # code, no link
    (
        "Do ![alt-text](http://meow.in/meow.png).",
        'Do <img src="http://meow.in/meow.png" alt="alt-text">.',
    ),
    ("```\n<b> & $x$\n```", "<pre><code>&lt;b&gt; &amp; $x$\n</code></pre>"),
    ("```nosuchlang\n<b>\n```", '<pre><code class="language-nosuchlang">&lt;b&gt;\n</code></pre>'),
    # Obsidian's block ids (` ^id` ending a paragraph) hidden, read in the source: an
    # escaped `^` is text
    ("a ^b1", "a"),
    ("a \\^b1", "a ^b1"),
    ("a &#94;b1", "a ^b1"),
    # an inline footnote's text is no block: its `^1` is text (`2^[^1]`: a footnote `^1`)
    (
        "2^[^1]",
        '<p>2<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup></p>\n'
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"><p>^1 <a href="#fnref1" class="footnote-backref">'
        "↩︎</a></p>\n</li>\n</ol>\n</section>",
    ),
    # a definition that is only a block id: its paragraph left out whole, no stray `</p>`
    (
        "x[^1]\n\n[^1]: ^b1",
        '<p>x<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup></p>\n'
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"> <a href="#fnref1" class="footnote-backref">'
        "↩︎</a></li>\n</ol>\n</section>",
    ),
    # an inline footnote in a link's text: its reference right after the link (an `<a>`
    # cannot nest in another, and the editor's browser would split the two)
    (
        "[a^[b] c](http://x.y)",
        '<p><a href="http://x.y">a c</a><sup class="footnote-ref"><a href="#fn1" id="fnref1">'
        "[1]</a></sup></p>\n"
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"><p>b <a href="#fnref1" class="footnote-backref">'
        "↩︎</a></p>\n</li>\n</ol>\n</section>",
    ),
]


@pytest.mark.parametrize(("markdown", "expected"), EXACT)
def test_renders_exactly(renderer: Renderer, markdown: str, expected: str) -> None:
    assert html(renderer, markdown) == expected


# input markdown -> substrings the HTML must contain
CONTAINS = [
    ("| a | b |\n|---|---|\n| 1 | 2 |", ["<table>", "<th>a</th>", "<td>2</td>"]),
    ("- [ ] todo\n- [x] done", ['type="checkbox"', 'checked="checked"', "todo"]),
    ("text[^1]\n\n[^1]: the note", ['class="footnote-ref"', "the note"]),
    ("# Title\n\npara", ["<h1>Title</h1>", "<p>para</p>"]),
    (
        "> [!warning] Careful\n> body *x*",
        [
            '<div class="callout callout-warning"',
            'style="border-left',
            "Careful</div>",
            "<em>x</em>",
        ],
    ),
    ("> [!tip]\n> body", [">Tip</div>", "<p>body</p>"]),
    ("> [!note] M\n> $$\n> a_b\n> $$", ["\\[a_b\\]"]),  # math keeps its bytes in callouts
    ("> plain quote", ["<blockquote>"]),
    ("```python\nprint('hi')\n```", ['<span style="color:', "print", "<pre style="]),
    ("para\n\n$$\n\\pi_\\theta(Y | X)\n$$", ["\\[\\pi_\\theta(Y | X)\\]"]),
    ("- item\n$$\na_b\n$$", ["<li>item", "\\[a_b\\]</li>"]),
    ("<b>raw html</b> kept", ["<b>raw html</b>"]),
]


@pytest.mark.parametrize(("markdown", "parts"), CONTAINS)
def test_renders_containing(renderer: Renderer, markdown: str, parts: list[str]) -> None:
    out = html(renderer, markdown)
    for part in parts:
        assert part in out


def test_callout_is_not_a_blockquote(renderer: Renderer) -> None:
    assert "blockquote" not in html(renderer, "> [!note] T\n> body")


OPEN = "obsidian://open?vault=My%20Vault&amp;file="

# wikilinks: existing notes link by vault path, others as written; heading kept as %23
LINKS = [
    ("[[LLM]]", f'<a href="{OPEN}LLM">LLM</a>'),
    ("[[loss function]]", f'<a href="{OPEN}ml%2Floss%20function">loss function</a>'),
    ("[[loss function|the loss]]", f'<a href="{OPEN}ml%2Floss%20function">the loss</a>'),
    ("[[LLM#Training]]", f'<a href="{OPEN}LLM%23Training">LLM &gt; Training</a>'),
    ("[[Nowhere]]", f'<a href="{OPEN}Nowhere">Nowhere</a>'),
    ("[[#Intro]]", f'<a href="{OPEN}deck%23Intro">Intro</a>'),
    ("`[[LLM]]`", "<code>[[LLM]]</code>"),
    ("$[[x]]$", "\\([[x]]\\)"),
]


@pytest.mark.parametrize(("markdown", "expected"), LINKS)
def test_wikilinks(renderer: Renderer, markdown: str, expected: str) -> None:
    assert html(renderer, markdown) == expected


def test_wikilink_prefers_the_notes_own_folder(vault: Path, renderer: Renderer) -> None:
    (vault / "LLM.md").unlink()
    (vault / "ml" / "LLM.md").write_text("x")
    (vault / "ml" / "deep" / "LLM.md").write_text("x")
    assert f"{OPEN}ml%2Fdeep%2FLLM" in html(renderer, "[[LLM]]", path="ml/deep/card.md")


EMBEDS = [
    ("![[img.png]]", '<img src="img.png">', ["img.png"]),
    ("![[img.png|200]]", '<img src="img.png" width="200">', ["img.png"]),
    ("![[img.png|200x100]]", '<img src="img.png" width="200" height="100">', ["img.png"]),
    ("![[img.png|a cat]]", '<img src="img.png" alt="a cat">', ["img.png"]),
    ("![cat](img.png)", '<img src="img.png" alt="cat">', ["img.png"]),
    ("![[local.png]]", '<img src="local.png">', ["ml/local.png"]),  # next to the note
    ("![[test.mp3]]", "[sound:test.mp3]", ["sounds/test.mp3"]),  # unique name anywhere
    ("music\n![[test.mp3]]", "music<br>\n[sound:test.mp3]", ["sounds/test.mp3"]),
    ("![[page]]", "x", []),  # a note: shown in place (tests/render/test_embeds.py)
]


@pytest.mark.parametrize(("markdown", "expected", "sources"), EMBEDS)
def test_embeds(renderer: Renderer, markdown: str, expected: str, sources: list[str]) -> None:
    field = renderer.render_field(markdown, cloze=False, path="ml/card.md", line=3)
    out, media = field.html, field.media
    assert out == expected
    assert [ref.source for ref in media] == sources


def test_same_basename_gets_distinct_anki_names(vault: Path, renderer: Renderer) -> None:
    (vault / "a").mkdir()
    (vault / "a" / "img.png").write_bytes(b"y")
    field = renderer.render_field("![[img.png]] ![[a/img.png]]", cloze=False, path="x.md", line=1)
    out, media = field.html, field.media
    names = {ref.source: ref.anki_name for ref in media}
    assert set(names) == {"img.png", "a/img.png"}
    assert len(set(names.values())) == 2
    assert all(re.fullmatch(r"img-[0-9a-f]{8}\.png", name) for name in names.values())
    assert all(f'src="{name}"' in out for name in names.values())


BAD_REFERENCES = [
    ("![[missing.png]]", 5, "'missing.png' not found"),
    ("text\n\n![](../../outside.png)", 7, "'../../outside.png' points outside the vault"),
    ("a\nb ![[/etc/hosts.png]]", 6, "'/etc/hosts.png' is an absolute path"),
    ("![[escape.png]]", 5, "'escape.png' is a symlink that leads outside the vault"),
    ("a\n[run\nit](notecards://demo/nope)", 7, "no demo named 'nope' (dpo, icl, pipeline,"),
]


@pytest.mark.parametrize(("markdown", "line", "message"), BAD_REFERENCES)
def test_bad_references_name_file_line_and_reference(
    vault: Path, renderer: Renderer, markdown: str, line: int, message: str
) -> None:
    secret = vault.parent / "secret.png"
    secret.write_bytes(b"s")
    (vault.parent / "outside.png").write_bytes(b"o")
    (vault / "escape.png").symlink_to(secret)
    with pytest.raises(NotecardsError) as caught:
        renderer.render_field(markdown, cloze=False, path="cards/deck.md", line=5)
    [problem] = caught.value.problems
    assert (problem.path, problem.line) == ("cards/deck.md", line)
    assert message in problem.message


def test_symlinked_folder_outside_the_vault_is_refused(vault: Path, renderer: Renderer) -> None:
    outside = vault.parent / "elsewhere"
    outside.mkdir()
    (outside / "x.png").write_bytes(b"x")
    (vault / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(NotecardsError, match="symlink that leads outside"):
        html(renderer, "![[linked/x.png]]")


def note(fields: dict[str, str], note_type: str = "Basic", **extra) -> Note:
    return Note(note_type, fields, (), "Default", None, "deck.md", 10, 20, **extra)


def test_render_note_fills_every_field_in_order_and_appends_appendix(renderer: Renderer) -> None:
    rendered = renderer.render(
        note({"Back": "*b*", "Front": "f ![[img.png]]"}, appendix={"Back": "<br/>ctx"})
    )
    assert list(rendered.fields) == ["Front", "Back"]
    assert rendered.fields == {"Front": 'f <img src="img.png">', "Back": "<em>b</em><br>ctx"}
    assert rendered.media == (MediaRef("img.png", "img.png"),)


def test_render_note_reports_every_bad_reference_at_its_line(renderer: Renderer) -> None:
    bad = note({"Front": "![[a.png]]", "Back": "ok\n![[b.png]]"}, field_lines={"Back": 14})
    with pytest.raises(NotecardsError) as caught:
        renderer.render(bad)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (10, "'a.png' not found in the vault"),
        (15, "'b.png' not found in the vault"),
    ]


def test_bad_reference_in_a_callout_is_reported_at_its_own_line(renderer: Renderer) -> None:
    # The callout's head line is cut from the paragraph: the body's lines must not shift up.
    markdown = "> [!note] ![[in-title.png]]\n> first\n> ![[in-body.png]]"
    with pytest.raises(NotecardsError) as caught:
        renderer.render_field(markdown, cloze=False, path="deck.md", line=10)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (10, "'in-title.png' not found in the vault"),
        (12, "'in-body.png' not found in the vault"),
    ]


def test_unknown_field_renders_empty(renderer: Renderer) -> None:
    rendered = renderer.render(note({"Text": "{x}"}, note_type="Cloze"))
    assert rendered.fields == {"Text": "{x}", "Back Extra": ""}
    assert BUILTIN_NOTE_TYPES["Cloze"].is_cloze


# -- the user's note: every formula arrives byte for byte ---------------------------

_BLOCK = re.compile(r"^START\n(.*?)^END$", re.S | re.M)
_FIELD_NOISE = re.compile(r"^(Tags:.*|<!--ID: \d+-->)$", re.M)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"\$([^$\n]+?)\$")


def _seed_cards() -> list[str]:
    text = SEED_NOTE.read_text(encoding="utf-8")
    return [_FIELD_NOISE.sub("", body.split("\n", 1)[1]) for body in _BLOCK.findall(text)]


def _escape(tex: str) -> str:
    return tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_seed_note_formulas_arrive_byte_for_byte(tmp_path: Path) -> None:
    cards = _seed_cards()
    assert len(cards) == 3
    renderer = Renderer(VaultConfig(vault_name="notes"), tmp_path)
    for card in cards:
        front, back = card.split("\nBack:", 1)
        out = "\n".join(
            renderer.render_field(
                field.strip(), cloze=False, path="LLM post-training.md", line=1
            ).html
            for field in (front, back)
        )
        displays = _DISPLAY.findall(card)
        inlines = _INLINE.findall(_DISPLAY.sub("", card))
        assert displays and inlines
        for tex in displays:
            assert "\\[" + _escape(tex).strip("\n") + "\\]" in out  # no newline inside
        for tex in inlines:
            assert f"\\({_escape(tex)}\\)" in out
        assert "$" not in out.replace("\\$", "")  # every dollar became a MathJax delimiter


def test_unknown_note_type_is_a_problem_at_the_start_line(renderer: Renderer) -> None:
    with pytest.raises(NotecardsError, match=r"deck.md:10: unknown note type 'Nope'"):
        renderer.render(note({"Front": "x"}, note_type="Nope"))


@pytest.mark.parametrize(
    ("markdown", "warned"),
    [
        ("`\\[` then\n\n$$x$$", True),  # the code's `\[` pairs with the formula's `\]`
        ("`\\(` $x$", True),
        ("- `a\\[b`\n- $$x$$", True),
        ("`\\[a\\]` and $x$", False),  # a pair inside the code: nothing crosses an element
        ("`\\(` and no formula", False),
        ("$x$ and `\\)`", False),
        ("$x$ and $$y$$", False),
    ],
)
def test_a_delimiter_of_text_that_anki_pairs_with_a_formula_is_a_warning(
    renderer: Renderer, markdown: str, warned: bool
) -> None:
    field = renderer.render_field(markdown, cloze=False, path="deck.md", line=7)
    assert [(w.line, "no formula" in w.message) for w in field.warnings] == (
        [(7, True)] if warned else []
    )
