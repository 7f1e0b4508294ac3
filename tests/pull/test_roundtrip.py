"""The converter is the renderer's inverse: a field rendered, converted back to markdown and
rendered again gives the same HTML, byte for byte. Over every field of the user's notes, the
fixture vaults, O2A's suites and the editor recordings' vaults, and over generated markdown.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from notecards.config import VaultConfig
from notecards.problems import NotecardsError
from notecards.pull.html_to_markdown import vault_html_to_markdown
from notecards.render import Renderer
from notecards.vault import load_vault
from tests.helpers.paths import FIXTURES, SHARED, USER_NOTES

O2A_SUITES = SHARED / "compat" / "o2a-suites"
EDITED_VAULTS = SHARED / "ankiconnect" / "editor-edits-vaults"


@dataclass(frozen=True)
class Field:
    """One field of a vault's note, with what its round trip needs."""

    corpus: str
    where: str  # path:line and field name, for a failure's message
    markdown: str
    renderer: Renderer
    path: str
    cloze: bool

    def render(self, markdown: str) -> str:
        return self.renderer.render_field(markdown, cloze=self.cloze, path=self.path, line=1).html

    def convert(self, html: str) -> str:
        return vault_html_to_markdown(html, self.renderer.config, cloze=self.cloze)


def vault_fields(corpus: str, root: Path) -> Iterator[tuple[Field, str]]:
    """Every field of every note in the vault with the HTML it renders to; a field that
    does not render (the broken fixture's bad links) has no HTML to convert."""
    vault = load_vault(root)
    renderer = Renderer(vault.config, root)
    for note in vault.parsed.notes:
        note_type = vault.config.note_types.get(note.note_type)
        if note_type is None:
            continue
        for name in note_type.fields:
            where = f"{note.path}:{note.field_lines.get(name, note.start_line)} {name}"
            markdown = note.fields.get(name, "")
            field = Field(corpus, where, markdown, renderer, note.path, note_type.is_cloze)
            try:
                yield field, field.render(markdown)
            except NotecardsError:
                continue


def o2a_vaults(into: Path) -> Iterator[tuple[str, Path]]:
    """O2A's suites laid out as its harness lays them out (the suite's `.obsidian` at the
    vault root, the media its vault held beside the notes)."""
    expected = json.loads((O2A_SUITES / "expected.json").read_text(encoding="utf-8"))
    for suite in sorted(p for p in O2A_SUITES.iterdir() if p.is_dir()):
        root = into / suite.name
        shutil.copytree(suite, root / suite.name, ignore=shutil.ignore_patterns(".obsidian"))
        if (suite / ".obsidian").is_dir():
            shutil.copytree(suite / ".obsidian", root / ".obsidian")
        for media in expected.get(suite.name, {}).get("media_present", []):
            (root / suite.name / media).write_bytes(b"ID3 stand-in audio")
        yield f"o2a/{suite.name}", root


def corpora(into: Path) -> Iterator[tuple[str, Path]]:
    """(corpus name, vault root) of every vault the round trip runs over; those in
    ../shared only where it is there."""
    yield "notes", USER_NOTES
    for root in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        yield f"fixtures/{root.name}", root
    if EDITED_VAULTS.is_dir():
        for root in sorted(p for p in EDITED_VAULTS.iterdir() if p.is_dir()):
            yield f"editor-edits/{root.name}", root
    if O2A_SUITES.is_dir():
        yield from o2a_vaults(into)


def all_fields(into: Path) -> Iterator[tuple[Field, str]]:
    for corpus, root in corpora(into):
        yield from vault_fields(corpus, root)


# -- the vaults -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fields() -> Iterator[list[tuple[Field, str]]]:
    with tempfile.TemporaryDirectory() as into:
        yield list(all_fields(Path(into)))


def round_trip_failures(fields: list[tuple[Field, str]], corpus: str) -> list[str]:
    failures = []
    for field, html in fields:
        if field.corpus != corpus and not field.corpus.startswith(f"{corpus}/"):
            continue
        converted = field.convert(html)
        try:
            again = field.render(converted)
        except NotecardsError as error:
            again = f"(does not render: {error})"
        if again != html:
            failures.append(f"{field.corpus} {field.where}: {converted!r} renders {again!r}")
    return failures


def test_every_field_of_the_users_notes_round_trips(fields) -> None:
    assert [f for f, _ in fields if f.corpus == "notes"], "the seed has fields"
    assert round_trip_failures(fields, "notes") == []


def test_every_fixture_field_round_trips(fields) -> None:
    assert round_trip_failures(fields, "fixtures") == []


def test_every_field_of_the_recorded_vaults_round_trips(fields) -> None:
    if not EDITED_VAULTS.is_dir():
        pytest.skip("the editor recordings' vaults live in ../shared/ankiconnect")
    assert round_trip_failures(fields, "editor-edits") == []


def test_every_field_of_the_o2a_suites_round_trips(fields) -> None:
    if not O2A_SUITES.is_dir():
        pytest.skip("O2A's suites live in ../shared/compat/o2a-suites (not in a fresh clone)")
    assert round_trip_failures(fields, "o2a") == []


# -- generated markdown -------------------------------------------------------------------

VAULT_FILES = ("LLM.md", "ml/loss function.md", "img.png", "ml/plot.png", "sounds/test.mp3")
# Text with every character markdown reads as syntax somewhere, and some that it does not;
# but no `\\(`, `\\[` or their closers, which Anki reads as math wherever they stand, and no
# HTML tags (the raw HTML it makes is drawn on its own, whole).
NOT_TEXT = re.compile(r"\\[()\[\]]|<[A-Za-z/!?]")
TEXT = st.text(
    alphabet=st.sampled_from(list("ab cd19 *_~=$<>&[]!{}#|\\`()-+.:^%\"'\t") + ["é", "→", "\xa0"]),
    min_size=1,
    max_size=12,
).filter(lambda t: not NOT_TEXT.search(t))
# The same in a code span that runs across atoms (a backtick of each): Anki pairs it with a
# formula's closer, across elements, and what its editor keeps is a field no markdown renders
# to (the formula's rest bare between blocks).
STRAY_DELIMITER = re.compile(r"<code>[^<]*\\[()\[\]]")
WORD = st.text(alphabet=st.sampled_from(list("abcxyz019")), min_size=1, max_size=6)
TEX = st.text(alphabet=st.sampled_from(list("ax1 _^{}\\<>&|+=()")), min_size=1, max_size=10).filter(
    lambda t: not NOT_TEXT.search(t)
)


def _wrap(marks: tuple[str, str]):
    return lambda inner: f"{marks[0]}{inner}{marks[1]}"


@st.composite
def inline_markdown(draw, depth: int = 2) -> str:
    """A line of inline markdown: text, emphasis of every kind, code, math, links of every
    kind, embeds, demo links, clozes, inline HTML."""
    atoms = [
        TEXT,
        WORD,
        WORD.map(lambda w: f"`{w}`"),
        TEXT.map(lambda t: f"`` {t} ``"),
        TEX.filter(lambda t: t.strip() == t and "$" not in t).map(lambda t: f"${t}$"),
        TEX.map(lambda t: f"$${t}$$"),
        st.sampled_from(
            [
                "[[LLM]]",
                "[[loss function]]",
                "[[loss function|the loss]]",
                "[[LLM#Training]]",
                "[[Nowhere]]",
                "[[#Intro]]",
                "![[img.png]]",
                "![[img.png|200]]",
                "![[plot.png|120x80]]",
                "![[img.png|a cat]]",
                "![[test.mp3]]",
                "![cat](img.png)",
                "![](img.png)",
                '![remote](http://example.com/a.png "title")',
                "[a link](http://example.com/x_y)",
                "<http://example.com>",
                "[notecards demo dpo](notecards://demo/dpo)",
                "{{c1::hidden}}",
                "<u>under</u>",
                '<span style="color: red">red</span>',
                "<br>",
                "&nbsp;",
                "&amp;",
            ]
        ),
    ]
    if depth:
        inner = inline_markdown(depth=depth - 1)
        for marks in (("*", "*"), ("_", "_"), ("**", "**"), ("~~", "~~"), ("==", "==")):
            atoms.append(inner.map(_wrap(marks)))
        atoms.append(inner.map(lambda t: f"[{t}](http://example.com)"))
    parts = draw(st.lists(st.one_of(*atoms), min_size=1, max_size=5))
    separators = draw(st.lists(st.sampled_from(["", " ", "  "]), min_size=len(parts)))
    return "".join(s + p for s, p in zip(separators, parts, strict=False)).strip()


@st.composite
def paragraph(draw) -> str:
    return "\n".join(draw(st.lists(inline_markdown(), min_size=1, max_size=3)))


@st.composite
def block_markdown(draw, depth: int = 2) -> str:
    """One block: a paragraph, heading, rule, fence, display math, table, HTML block, and
    (nested) lists, quotes and callouts."""
    kind = draw(
        st.sampled_from(
            ["p", "h", "hr", "fence", "math", "table", "html", "list", "quote", "callout"]
            if depth
            else ["p", "h", "hr", "fence", "math", "table"]
        )
    )
    if kind == "p":
        return draw(paragraph())
    if kind == "h":
        return "#" * draw(st.integers(1, 6)) + " " + draw(inline_markdown(depth=1))
    if kind == "hr":
        return draw(st.sampled_from(["---", "***", "___"]))
    if kind == "fence":
        language = draw(st.sampled_from(["", "python", "js", "nosuchlang"]))
        body = draw(st.lists(TEXT, max_size=3))
        return f"```{language}\n" + "".join(f"{line}\n" for line in body) + "```"
    if kind == "math":
        return "$$\n" + draw(TEX.filter(lambda t: not t.strip().endswith("$$"))) + "\n$$"
    if kind == "table":
        width = draw(st.integers(1, 3))
        rows = draw(st.integers(0, 2))
        align = draw(st.lists(st.sampled_from(["---", ":--", "--:", ":-:"]), min_size=width))
        cell = inline_markdown(depth=1).map(lambda t: t.replace("|", "\\|"))
        lines = ["| " + " | ".join(draw(cell) for _ in range(width)) + " |"]
        lines.append("| " + " | ".join(align[:width]) + " |")
        lines += ["| " + " | ".join(draw(cell) for _ in range(width)) + " |" for _ in range(rows)]
        return "\n".join(lines)
    if kind == "html":
        return "<div>\n<b>raw</b> block\n</div>"
    inner = st.lists(block_markdown(depth=depth - 1), min_size=1, max_size=3)
    if kind == "list":
        ordered = draw(st.booleans())
        start = draw(st.integers(0, 12))
        loose = draw(st.booleans())
        task = draw(st.sampled_from(["", "[ ] ", "[x] "]))
        items = []
        for number, blocks in enumerate(draw(st.lists(inner, min_size=1, max_size=3)), start):
            if task or blocks[0] in ("---", "***", "___") or blocks[0].startswith("<"):
                blocks[0] = draw(paragraph())  # `- ---` is a rule; a checkbox opens a line
            marker = f"{number}." if ordered else "-"
            pad = " " * (len(marker) + 1)
            text = ("\n\n" if loose else "\n").join(blocks)
            lines = text.split("\n")
            items.append(
                "\n".join([f"{marker} {task}{lines[0]}", *(pad + x if x else x for x in lines[1:])])
            )
        return ("\n\n" if loose else "\n").join(items)
    quoted = "\n\n".join(draw(inner))
    head = ""
    if kind == "callout":
        head = draw(st.sampled_from(["[!note]", "[!tip] A title", "[!warning]- Folded *x*"]))
        head += "\n"
    return "\n".join(f"> {line}" if line else ">" for line in (head + quoted).split("\n"))


@st.composite
def field_markdown(draw) -> str:
    blocks = draw(st.lists(block_markdown(), min_size=1, max_size=4))
    footnotes = draw(st.lists(inline_markdown(depth=1), max_size=2))
    refs = "".join(f"[^{n}]" for n in range(1, len(footnotes) + 1))
    definitions = [f"[^{n}]: {text}" for n, text in enumerate(footnotes, 1)]
    return "\n\n".join([*blocks, *([f"see{refs}"] if refs else []), *definitions])


@pytest.fixture(scope="module")
def generated_vault() -> Iterator[Renderer]:
    with tempfile.TemporaryDirectory() as root:
        for name in VAULT_FILES:
            (Path(root) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(root) / name).write_bytes(b"x")
        config = VaultConfig(vault_name="My Vault", curly_cloze=True)
        yield Renderer(config, Path(root))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown=field_markdown(), cloze=st.booleans())
def test_generated_markdown_round_trips(generated_vault: Renderer, markdown: str, cloze: bool):
    assume("^[]" not in markdown)  # an empty inline footnote: no `[^1]:` renders the same
    field = Field("generated", "", markdown, generated_vault, "deck.md", cloze)
    html = field.render(markdown)
    assume(not STRAY_DELIMITER.search(html))
    converted = field.convert(html)
    assert field.render(converted) == html, converted
