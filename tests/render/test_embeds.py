"""`![[Note]]`, `![[Note#Heading]]`, `![[Note#^block]]`: the embedded text rendered in place, as
Obsidian shows it; block references; the `^id` markers hidden. Every HTML here is in the form
Anki's editor keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.problems import NotecardsError, Severity
from notecards.render import RenderCache, RenderedField, Renderer, embeds, note_problems
from notecards.render.anki_form import anki_form
from notecards.render.renderer import MAX_EMBED_DEPTH
from notecards.vault import load_vault
from tests.helpers.paths import REPO
from tests.helpers.vault import write_vault

OPEN = "obsidian://open?vault=V&amp;file="
SEED_NOTE = REPO / "notes" / "LLM post-training.md"
TOPIC = """\
---
tags: [x]
---
# Topic
Intro paragraph ^intro

## Section A
Text of A, see [[Other]] and ![[pic.png]].
- item one
- item two ^two
  - child
- item three

### Sub of A
deep $x$

## Section B
| a | b |
|---|---|
| 1 | 2 |

^table

START
Basic
card front
Back: card back ^inside
<!--ID: 123-->
END

after the card STARTI [Basic] inline q Back: inline a ENDI tail
TARGET DECK: Hidden::Deck
"""


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = write_vault(
        tmp_path / "vault",
        {"notes/Topic.md": TOPIC, "Other.md": "other\n", "notes/pic.png": "png", "slides.pdf": "%"},
    )
    return root


@pytest.fixture
def renderer(vault: Path) -> Renderer:
    return Renderer(VaultConfig(vault_name="V"), vault)


def field(renderer: Renderer, markdown: str, path: str = "deck/card.md", line: int = 1):
    out = renderer.render_field(markdown, cloze=False, path=path, line=line)
    assert anki_form(out.html) == out.html
    return out


def html(renderer: Renderer, markdown: str, path: str = "deck/card.md") -> str:
    out = field(renderer, markdown, path)
    assert out.warnings == ()
    return out.html


SECTION_A = (
    "<h2>Section A</h2>\n"
    f'<p>Text of A, see <a href="{OPEN}Other">Other</a> and <img src="pic.png">.</p>\n'
    "<ul>\n<li>item one</li>\n<li>item two\n<ul>\n<li>child</li>\n</ul>\n</li>\n"
    "<li>item three</li>\n</ul>\n<h3>Sub of A</h3>\n<p>deep \\(x\\)</p>"
)

# markdown -> the stored HTML
EMBEDDED = [
    # a heading's section: to the next heading of its level or higher, subheadings inside
    ("![[Topic#Section A]]", SECTION_A),
    ("![[notes/Topic#section   a]]", SECTION_A),  # case and spaces aside, by its path
    ("![[Topic#Section A#Sub of A]]", "<h3>Sub of A</h3>\n<p>deep \\(x\\)</p>"),
    # a block: a paragraph's text goes inline; a list item with what is under it
    ("![[Topic#^intro]]", "Intro paragraph"),
    ("see ![[Topic#^intro]]!", "see Intro paragraph!"),
    ("![[Topic#^two]]", "<ul>\n<li>item two\n<ul>\n<li>child</li>\n</ul>\n</li>\n</ul>"),
    (
        "![[Topic#^table]]",  # a lone `^id` line names the block above it
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>",
    ),
    # an embed alone in its paragraph takes the paragraph's place
    ("before\n\n![[Topic#Section A#Sub of A]]\n\nafter",
     "<p>before</p>\n<h3>Sub of A</h3>\n<p>deep \\(x\\)</p>\n<p>after</p>"),
    ("- ![[Topic#^intro]]", "<ul>\n<li>Intro paragraph</li>\n</ul>"),
    # an embed that points into a card block shows the card's text from there, as written
    ("![[Topic#^inside]]", "card front<br>\nBack: card back"),
]  # fmt: skip


@pytest.mark.parametrize(("markdown", "expected"), EMBEDDED)
def test_embeds_render_in_place(renderer: Renderer, markdown: str, expected: str) -> None:
    assert html(renderer, markdown) == expected


def test_the_embedded_texts_media_and_links_resolve_from_its_own_folder(renderer) -> None:
    out = field(renderer, "![[Topic#Section A]]")
    assert [(m.source, m.anki_name) for m in out.media] == [("notes/pic.png", "pic.png")]
    kinds = [(kind, reference.split("\0")) for kind, reference, _ in out.deps]
    assert kinds == [
        ("embed", ["Topic#Section A"]),
        ("note", ["notes/Topic.md", "Other"]),  # written in Topic.md: resolved from there
        ("media", ["notes/Topic.md", "pic.png"]),
    ]


def test_a_whole_note_is_shown_without_frontmatter_and_without_its_cards(renderer) -> None:
    """A card's question and answer are that card's: they are not shown on another card, nor
    are notecards' other lines (Obsidian would show them all as text)."""
    out = html(renderer, "![[Topic]]")
    assert out.startswith("<h1>Topic</h1>\n<p>Intro paragraph</p>\n<h2>Section A</h2>")
    assert "<p>after the card  tail</p>" in out
    for hidden in ("tags", "START", "card front", "card back", "ID", "STARTI", "inline", "DECK"):
        assert hidden not in out, hidden
    assert "^" not in out  # block ids are hidden, as in Obsidian's reading view


def test_nested_embeds_render_each_from_its_own_file(vault: Path, renderer: Renderer) -> None:
    (vault / "a.md").write_text("# One\nfrom a: ![[sub/b#^para]]\n")
    (vault / "sub").mkdir()
    (vault / "sub" / "b.md").write_text("b says [[c]] ^para\n")
    (vault / "sub" / "c.md").write_text("c\n")
    (vault / "c.md").write_text("the other c\n")
    out = html(renderer, "![[a#One]]")
    assert out == f'<h1>One</h1>\n<p>from a: b says <a href="{OPEN}sub%2Fc">c</a></p>'


def test_a_cycle_is_cut_where_it_closes(vault: Path, renderer: Renderer) -> None:
    (vault / "loop.md").write_text("# x\nx text\n\n![[#y]]\n# y\ny text\n\n![[loop#x]]\n")
    out = field(renderer, "![[loop#x]]", line=7)
    assert out.html == (
        "<h1>x</h1>\n<p>x text</p>\n<h1>y</h1>\n<p>y text</p>\n"
        f'<p><a href="{OPEN}loop%23x">loop &gt; x</a></p>'
    )
    (warning,) = out.warnings
    assert (warning.where.path, warning.line, warning.severity) == ("loop.md", 8, Severity.WARNING)
    assert warning.message == (
        "![[loop#x]]: embeds itself (through loop#x, loop#y); shown as a link"
        " (in the text embedded at deck/card.md:7)"
    )


def test_a_section_that_embeds_itself_is_a_cycle(vault: Path, renderer: Renderer) -> None:
    (vault / "self.md").write_text("# s\n![[#s]]\n")
    out = field(renderer, "![[self#s]]")
    assert out.html == f'<h1>s</h1>\n<p><a href="{OPEN}self%23s">s</a></p>'
    assert [(w.line, w.message.split(";")[0]) for w in out.warnings] == [
        (2, "![[#s]]: embeds itself")
    ]


def test_embeds_nest_only_so_deep(vault: Path, renderer: Renderer) -> None:
    for level in range(MAX_EMBED_DEPTH + 2):
        (vault / f"n{level}.md").write_text(f"level {level} ![[n{level + 1}]]\n")
    out = field(renderer, "![[n0]]")
    levels = [f"level {level}" for level in range(MAX_EMBED_DEPTH)]
    assert out.html.startswith(" ".join(levels))
    assert f"level {MAX_EMBED_DEPTH}" not in out.html
    (warning,) = out.warnings
    assert warning.where.path == f"n{MAX_EMBED_DEPTH - 1}.md"
    assert f"nested more than {MAX_EMBED_DEPTH} deep" in warning.message


MISSING = [
    ("![[Nowhere]]", "no note 'Nowhere' in the vault", f'<a href="{OPEN}Nowhere">Nowhere</a>'),
    (
        "![[Topic#No such heading]]",
        "notes/Topic.md has no heading 'No such heading'",
        f'<a href="{OPEN}notes%2FTopic%23No%20such%20heading">Topic &gt; No such heading</a>',
    ),
    (
        "![[Topic#^nope]]",
        "notes/Topic.md has no block ^nope",
        f'<a href="{OPEN}notes%2FTopic%23%5Enope">Topic &gt; ^nope</a>',
    ),
]


@pytest.mark.parametrize(("embed", "why", "link"), MISSING)
def test_an_embed_that_cannot_be_resolved_is_a_warning_at_its_line_and_stays_a_link(
    renderer: Renderer, embed: str, why: str, link: str
) -> None:
    out = field(renderer, f"first line\n{embed}", line=3)
    assert out.html == f"first line<br>\n{link}"
    (warning,) = out.warnings
    assert (warning.where.path, warning.line) == ("deck/card.md", 4)
    assert warning.message == f"{embed}: {why}; shown as a link"
    assert warning.severity is Severity.WARNING


def test_the_warning_reaches_the_rendered_note(vault: Path) -> None:
    write_vault(vault, {"deck/card.md": "START\nBasic\nq\nBack: ![[Nowhere]]\nEND\n"})
    loaded = load_vault(vault)
    (note,) = [n for n in loaded.parsed.notes if n.path == "deck/card.md"]
    rendered = Renderer(loaded.config, vault).render(note)
    problems = note_problems(rendered, loaded.config)
    assert [p.format() for p in problems] == [
        "deck/card.md:4: warning: ![[Nowhere]]: no note 'Nowhere' in the vault; shown as a link"
    ]


def test_a_file_that_is_no_note_stays_a_link_without_a_word(renderer: Renderer) -> None:
    assert html(renderer, "![[slides.pdf]]") == f'<a href="{OPEN}slides.pdf">slides.pdf</a>'


@pytest.mark.parametrize("missing", ["![](nothing.png)", "![[nothing.png]]"])
def test_a_problem_in_embedded_text_is_at_its_own_files_line(
    vault: Path, renderer, missing
) -> None:
    """Also for a media embed, which is not rendered at all then (found by the fuzz test)."""
    (vault / "broken.md").write_text(f"# b\n\nsee {missing}\n")
    with pytest.raises(NotecardsError) as caught:
        renderer.render_field("![[broken#b]]", cloze=False, path="deck/card.md", line=5)
    (problem,) = caught.value.problems
    assert problem.format() == (
        "broken.md:3: 'nothing.png' not found in the vault (in the text embedded at deck/card.md:5)"
    )


def test_an_embed_of_only_cards_shows_nothing_and_says_so(vault: Path, renderer) -> None:
    (vault / "cards.md").write_text("START\nBasic\nq\nBack: a\nEND\n")
    out = field(renderer, "![[cards]]")
    assert out.html == ""
    assert [w.message for w in out.warnings] == [
        "![[cards]] shows nothing: its text is only card syntax, comments or blank lines"
    ]


def test_a_block_embed_inside_a_sentence_is_in_the_editors_form(renderer) -> None:
    """Blocks inside a `<p>` are what the editor would rewrite: the field is written as it
    keeps it, the paragraph split around them (`html` checks the form)."""
    out = html(renderer, "first\n\nsee ![[Topic#Section A#Sub of A]] here")
    assert out == "<p>first</p>\n<p>see </p><h3>Sub of A</h3>\n<p>deep \\(x\\)</p> here<p></p>"
    alone = html(renderer, "see ![[Topic#Section A#Sub of A]] here")  # a lone paragraph: no <p>
    assert alone == "see <h3>Sub of A</h3>\n<p>deep \\(x\\)</p> here"


def test_clozes_in_embedded_text_number_on_from_the_fields(vault: Path) -> None:
    (vault / "c.md").write_text("{more} ^c\n")
    renderer = Renderer(VaultConfig(vault_name="V", curly_cloze=True), vault)
    out = renderer.render_field("{a} ![[c#^c]]", cloze=True, path="x.md", line=1)
    assert out.html == "{{c1::a}} {{c2::more}}"


# -- what the card follows from: the embedded section's text --------------------


def embed_dep(out: RenderedField) -> tuple[str, str, str]:
    (dep,) = [d for d in out.deps if d[0] == "embed"]
    return dep


def test_the_embedded_sections_text_is_a_dependency(vault: Path) -> None:
    out = field(Renderer(VaultConfig(vault_name="V"), vault), "![[Topic#Section B]]")
    deps = out.deps
    topic = vault / "notes" / "Topic.md"

    def changed() -> list[tuple[str, str, str]]:
        return list(Renderer(VaultConfig(vault_name="V"), vault).changed_deps(deps, "deck/card.md"))

    assert changed() == []
    topic.write_text(TOPIC.replace("Intro paragraph", "Intro, edited"))  # another section
    assert changed() == []
    topic.write_text(TOPIC.replace("card back", "other back"))  # a card's text is not shown
    assert changed() == []
    topic.write_text(TOPIC.replace("| 1 | 2 |", "| 1 | 3 |"))  # the section itself
    assert changed() == [embed_dep(out)]
    topic.unlink()
    assert changed() == [embed_dep(out)]


def test_a_self_embed_follows_the_note_to_another_file(vault: Path) -> None:
    (vault / "one.md").write_text("# s\none\n")
    (vault / "two.md").write_text("# s\ntwo\n")
    renderer = Renderer(VaultConfig(vault_name="V"), vault)
    out = field(renderer, "![[#s]]", path="one.md")
    assert out.html == "<h1>s</h1>\n<p>one</p>"
    assert renderer.still_resolves(out.deps, "one.md")
    assert not renderer.still_resolves(out.deps, "two.md")


def test_the_render_cache_renders_a_card_again_when_its_embedded_section_changed(vault) -> None:
    cache_file = vault / ".notecards" / "render-cache.sqlite3"

    def render() -> tuple[str, int]:
        with RenderCache(cache_file) as cache:
            renderer = Renderer(VaultConfig(vault_name="V"), vault, cache)
            out = renderer.render_field("![[Topic#^intro]]", cloze=False, path="a.md", line=1)
        return out.html, renderer.fields_rendered

    assert render() == ("Intro paragraph", 1)
    assert render() == ("Intro paragraph", 0)  # from the cache
    topic = vault / "notes" / "Topic.md"
    topic.write_text(TOPIC.replace("Intro paragraph", "Intro, edited"))
    assert render() == ("Intro, edited", 1)


def test_a_field_with_warnings_is_not_cached(vault: Path) -> None:
    """Its warnings are said every time it renders, as a problem must be."""
    with RenderCache(vault / "cache.sqlite3") as cache:
        renderer = Renderer(VaultConfig(vault_name="V"), vault, cache)
        for _ in range(2):
            out = renderer.render_field("![[Nowhere]]", cloze=False, path="a.md", line=1)
            assert len(out.warnings) == 1
    assert renderer.fields_rendered == 2


# -- block references and the `^id` markers ---------------------------------------

BLOCK_REFS = [
    ("[[Topic#^two]]", f'<a href="{OPEN}notes%2FTopic%23%5Etwo">Topic &gt; ^two</a>'),
    ("[[Topic#^two|item]]", f'<a href="{OPEN}notes%2FTopic%23%5Etwo">item</a>'),
    (
        "[[Topic#Section A#^two]]",
        f'<a href="{OPEN}notes%2FTopic%23Section%20A%23%5Etwo">Topic &gt; Section A &gt; ^two</a>',
    ),
    ("[[#^here]]", f'<a href="{OPEN}deck%2Fcard%23%5Ehere">^here</a>'),
]


@pytest.mark.parametrize(("markdown", "expected"), BLOCK_REFS)
def test_block_references_open_the_block(renderer: Renderer, markdown: str, expected: str) -> None:
    assert html(renderer, markdown) == expected


BLOCK_IDS = [
    ("a paragraph ^abc", "a paragraph"),
    ("**bold** ^a-1", "<strong>bold</strong>"),
    ("para\n\n^abc", "<p>para</p>"),  # the lone form names the block above: not shown
    ("para\n^abc", "para"),
    ("- item ^x\n- other", "<ul>\n<li>item</li>\n<li>other</li>\n</ul>"),
    ("x^2", "x^2"),  # no space before: no id
    ("2 ^ 3", "2 ^ 3"),
    ("`code ^a`", "<code>code ^a</code>"),
    ("# Heading ^a", "<h1>Heading ^a</h1>"),  # only a paragraph's end
    ("a ^b c", "a ^b c"),
]


@pytest.mark.parametrize(("markdown", "expected"), BLOCK_IDS)
def test_block_ids_are_hidden_as_in_reading_view(
    renderer: Renderer, markdown: str, expected: str
) -> None:
    assert html(renderer, markdown) == expected


def test_the_users_cards_read_the_same_with_one_embed_for_the_pasted_section(tmp_path) -> None:
    """The project's own notes paste the same long section into the back of all three cards;
    with `![[#Section]]` in its place each card is the very same HTML."""
    pasted = SEED_NOTE.read_text(encoding="utf-8")
    section = pasted[: pasted.index("# anki")].strip()
    embedded = pasted.replace(section, "![[#Two-stage training paradigm]]")
    embedded = section + embedded.removeprefix("![[#Two-stage training paradigm]]")
    assert embedded.count("![[#Two-stage training paradigm]]") == 3

    def backs(text: str) -> list[str]:
        vault = write_vault(tmp_path / "notes", {SEED_NOTE.name: text})
        loaded = load_vault(vault)
        renderer = Renderer(loaded.config, vault)
        return [renderer.render(note).fields["Back"] for note in loaded.parsed.notes]

    before = backs(pasted)
    assert len(before) == 3 and all(back.startswith("<h2>Two-stage") for back in before)
    assert backs(embedded) == before


@pytest.mark.parametrize(
    "markdown",
    [
        "text ^id",
        "text ^id\f",  # white space `strip` takes, after the id
        "text ^id\u2003\n\nmore",
        "> [!note] T\n> body ^a-1",
        "- item ^b\n  - inner ^c\t",
        "a\n^id",
        "$e^{x}$ and x^2\n\n| a ^t |\n|---|\n| b ^u |\n\n# head ^h",  # no paragraph's end
        "text^id\n\ntext \\^id\n\n`code ^id`",
        "^[inline ^n] note\n\n[^1]: def ^d\n\ntext[^1]",
        "> a\nlazy ^id",  # a lazy line of a quote
        "text ^id   \nnext ^j\\\nlast",  # trailing spaces; a hard break after an id
        "1. x ^n\u00a0\n\n   para ^p",  # a no-break space; a list item's second paragraph
    ],
)
def test_a_block_id_is_hidden_as_without_the_search_for_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, markdown: str
) -> None:
    """The rule that hides ` ^id` runs only where a line of the field ends in one: the same
    HTML as where it always runs."""
    renderer = Renderer(VaultConfig(vault_name="v"), tmp_path)
    searched = renderer.render_field(markdown, cloze=False, path="n.md", line=1).html
    monkeypatch.setattr(embeds, "_ID_ENDING_A_LINE", re.compile(""))  # matches every text
    always = Renderer(VaultConfig(vault_name="v"), tmp_path)
    assert always.render_field(markdown, cloze=False, path="n.md", line=1).html == searched
