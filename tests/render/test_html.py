"""The renderer's own HTML loop (html.py) writes what markdown-it's loop writes, byte for
byte: every field of the user's notes, of the fixture vaults, of generated benchmark cards,
and of markdown written to reach each branch of `renderToken` (hidden paragraphs, attributes,
empty elements)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML

from notecards.config import VaultConfig
from notecards.model import Note
from notecards.problems import NotecardsError
from notecards.render import Renderer
from notecards.render import renderer as renderer_module
from notecards.render.html import AnkiHTMLRenderer
from notecards.vault import load_vault
from tests.helpers.paths import FIXTURES, REPO, USER_NOTES


class StockLoop(RendererHTML):
    """markdown-it's own render loop, with the rules `AnkiHTMLRenderer` adds."""

    text = AnkiHTMLRenderer.text
    code_inline = AnkiHTMLRenderer.code_inline
    code_block = AnkiHTMLRenderer.code_block


def stock_renderer(config: VaultConfig, root: Path, monkeypatch: pytest.MonkeyPatch) -> Renderer:
    with monkeypatch.context() as patch:
        patch.setattr(renderer_module, "AnkiHTMLRenderer", StockLoop)
        return Renderer(config, root)


def rendered_fields(renderer: Renderer, notes: list[Note]) -> list[object]:
    fields: list[object] = []
    for note in notes:
        try:
            fields.append(renderer.render(note).fields)
        except NotecardsError as error:
            fields.append([str(problem) for problem in error.problems])
    return fields


def generated_vault(root: Path, cards: int) -> Path:
    """The benchmarks' generated vault (bench/genvault.py), `cards` cards."""
    spec = importlib.util.spec_from_file_location("genvault", REPO / "bench" / "genvault.py")
    assert spec is not None and spec.loader is not None
    genvault = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(genvault)
    genvault.generate(root, cards)
    return root


VAULTS = [USER_NOTES, *sorted(p for p in FIXTURES.iterdir() if p.is_dir())]


@pytest.mark.parametrize("root", VAULTS, ids=[p.name for p in VAULTS])
def test_every_field_of_a_vault_as_markdown_it_writes_it(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = load_vault(root)
    assert vault.parsed.notes
    ours = Renderer(vault.config, root)
    assert type(ours._md.renderer) is AnkiHTMLRenderer
    stock = stock_renderer(vault.config, root, monkeypatch)
    assert type(stock._md.renderer) is StockLoop
    notes = list(vault.parsed.notes)
    assert rendered_fields(ours, notes) == rendered_fields(stock, notes)


def test_generated_cards_as_markdown_it_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = generated_vault(tmp_path / "vault", 300)
    vault = load_vault(root)
    assert len(vault.parsed.notes) == 300
    ours = rendered_fields(Renderer(vault.config, root), list(vault.parsed.notes))
    stock = rendered_fields(stock_renderer(vault.config, root, monkeypatch), vault.parsed.notes)
    assert ours == stock


# Markdown reaching each case of the loop: tags with and without attributes, a block tag
# after a hidden (tight list) paragraph, an empty element, rules that call `renderToken`.
MARKDOWN = [
    "one paragraph",
    "a\n\nb",
    "- a\n- b\n\n  c",
    "- a\n  > quoted\n- b",
    "- a\n  ```\n  code\n  ```\n- b",
    "1. a\n   - nested\n2. b",
    "3. starts at three\n4. next",
    "-\n- empty item above",
    "- [ ] task\n- [x] done",
    "| left | right |\n|:-----|------:|\n| a | b |",
    '[link](http://example.com "a title") and ![img](http://example.com/i.png "t")',
    "<div>raw</div>\n\n<b>inline</b> html",
    "    indented code <&>",
    '`code "quoted" <&>`',
    "```python\nx = 1\n```\n\n```unknown-lang\nplain <&>\n```\n\n```\nno lang\n```",
    "text[^1]\n\n[^1]: the note",
    "inline^[a footnote] here",
    "> [!note] Title\n> body",
    "> plain quote\n\n---\n\n# Heading\n\nSetext\n===",
    "line one\nline two  \nhard break",
    "*em* **strong** ~~s~~ ==mark== $x$ $$y$$",
    "text ^block-id\n\n^named",
    '"quotes" & <angles> \xa0nbsp',
    "",
]


@pytest.mark.parametrize("cloze", [False, True])
def test_markdown_reaching_each_case_as_markdown_it_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloze: bool
) -> None:
    config = VaultConfig(vault_name="V")
    ours, stock = Renderer(config, tmp_path), stock_renderer(config, tmp_path, monkeypatch)
    for markdown in MARKDOWN:
        mine = ours.render_field(markdown, cloze=cloze, path="n.md", line=1)
        theirs = stock.render_field(markdown, cloze=cloze, path="n.md", line=1)
        assert mine.html == theirs.html, markdown
        assert mine.warnings == theirs.warnings, markdown


def test_a_text_rule_added_later_is_the_one_used() -> None:
    md = MarkdownIt(renderer_cls=AnkiHTMLRenderer)
    md.add_render_rule("text", lambda self, tokens, idx, options, env: tokens[idx].content.upper())
    assert md.render('a *"b"*') == '<p>A <em>"B"</em></p>\n'
    assert MarkdownIt(renderer_cls=AnkiHTMLRenderer).render('a *"b"*') == '<p>a <em>"b"</em></p>\n'
