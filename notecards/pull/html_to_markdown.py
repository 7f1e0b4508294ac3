"""A field's HTML, as Anki holds it, back to the Obsidian markdown that renders to it.

The inverse of `notecards.render` for everything the renderer writes, so that an edit made in
Anki can be placed on the vault's markdown (`patch.py`) and the result checked by rendering it
again: `$...$` for `\\(...\\)` with the TeX byte for byte, `[[Note|alias]]` for an
`obsidian://open` link, `![[name|200]]` for an `<img>`, a fenced block for highlighted code,
callouts, footnotes, tables, task lists, `==highlights==`. What Anki's editor writes and
markdown has no spelling for that renders the same (`<b>`, `<u>`, a pasted `<span style>`, a
`<br>` with no line break after it, `&nbsp;`) stays inline HTML, so nothing is dropped and
what is written renders back to what Anki holds.

markdownify walks the tree (BeautifulSoup) and calls a `convert_<tag>` per element; the walk
itself is replaced because markdown's blocks and its whitespace have to come back exactly:
a block container's children are grouped into paragraphs (runs of inline nodes) and blocks,
and no white space is folded. Inline content is written in two steps: the elements give
their markup, with their text and their emphasis delimiters left open (sentinels), and
`_Inline` then escapes each text only where markdown would read it otherwise, and picks for
each emphasis `*`, `_` or the HTML tag, whichever its neighbours let markdown read back.

Choices where the HTML does not say which markdown it came from (each renders the same):
`<code>notecards demo NAME</code>` becomes the demo link `[notecards demo NAME](...)`; a
link to a heading of the note itself becomes `[[Note#Heading|Heading]]`; a wikilink to
`folder/Note` shown as `Note` becomes `[[Note]]` (the name the vault resolves to it).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote, unquote

from bs4 import (
    BeautifulSoup,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
)
from bs4.dammit import EntitySubstitution
from bs4.formatter import HTMLFormatter
from markdown_it.common.normalize_url import normalizeLink, validateLink
from markdownify import MarkdownConverter

from notecards.config import VaultConfig
from notecards.demo_catalog import DEMOS, demo_command
from notecards.render.anki_form import VOID, anki_form, escape_text, start_tag
from notecards.render.callouts import _style as callout_style
from notecards.render.code import highlight_code
from notecards.render.vault_index import media_kind
from notecards.render.wikilinks import image_size

# Sentinels around what `_Inline` still has to decide: Unicode noncharacters, which no
# field holds (they are dropped from the input).
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"
_SENTINELS = str.maketrans("", "", "\ufdd0\ufdd1\ufdd2\ufdd3")
# A line of TeX written as it stands, not indented by the list items around it: a lazy
# continuation line, which the math rule keeps as it was (up to the quote it is in).
_LAZY = "\ufdd3"
_DOLLAR = "\ufdd2"  # a `$` of text, escaped or not once everything right of it is known
# What a `\\` before it escapes (a `$` of text and a delimiter not yet chosen are marks).
_ESCAPABLE = string.punctuation + "\n\0" + _DOLLAR
_PIECE = re.compile(f"{_OPEN}(.)(.*?){_CLOSE}", re.S)
_SPLIT = re.compile(f"{_OPEN}(.)(.*?){_CLOSE}|[^{_OPEN}]+", re.S)
_TEXT, _LINK_TEXT, _MATH, _DISPLAY, _OPENER, _CLOSER, _BREAK = "tlmMocb"
_LINK_MATH, _LINK_DISPLAY = "pP"  # math in a link's text (written as text there, if at all)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Elements a line of markdown cannot start inside a paragraph: CommonMark's HTML blocks of
# type 6, which swallow the markdown after them.
_BLOCK_NAMES = _words(
    "address article aside base basefont blockquote body caption center col colgroup dd "
    "details dialog dir div dl dt fieldset figcaption figure footer form frame frameset h1 h2 "
    "h3 h4 h5 h6 head header hr html iframe legend li link main menu menuitem nav noframes ol "
    "optgroup option p param pre search section summary table tbody td tfoot th thead title "
    "tr track ul"
)
_HEADING = re.compile(r"h([1-6])")
_WHITE = " \t\n\r\f"
_CLOSERS = {"(": ")", "[": "]"}
# A line CommonMark begins an HTML block of type 7 with: one whole tag, alone.
_TAG_LINE = re.compile(
    r"(?:<(?!(?:script|style|pre|textarea)\b)[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"
    r"|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*(?:\n|$)"
)
# Text written as an entity (`&nbsp;`, `&#10;`): what a neighbour sees of it.
_ENTITY_STARTS = dict.fromkeys("\xa0\n\r", "&")
_ENTITY_ENDS = dict.fromkeys("\xa0\n\r", ";")
_SOUND = re.compile(r"\[sound:([^\]\[\n]+)\]")
_BLOCK_ID_END = re.compile(r"(?:(?<=[ \t])|^)\^[A-Za-z0-9-]+\Z")
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]*);")
_AUTOLINK = re.compile(r"[A-Za-z][A-Za-z0-9.+-]{1,31}:[^<>\x00-\x20]*")
_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
# Lines that would begin a block if a paragraph's line began so (escaped at the marked char).
_LIST_MARK = re.compile(r"[-+*](?=[ \t]|$)|#{1,6}(?=[ \t]|$)|>")
_ORDERED_MARK = re.compile(r"[0-9]{1,9}([.)])(?=[ \t]|$)")
_RULE_LINE = re.compile(r"[-=][-= \t]*")
_TABLE_DELIMITER_LINE = re.compile(r"[ \t]*\|?[ \t]*:?-[-:| \t]*")
_CHECKBOX = {
    (("class", "task-list-item-checkbox"), ("disabled", "disabled"), ("type", "checkbox")): " ",
    (
        ("class", "task-list-item-checkbox"),
        ("checked", "checked"),
        ("disabled", "disabled"),
        ("type", "checkbox"),
    ): "x",
}
_FOOTNOTE_REF = re.compile(r"#fn([0-9]+)")
_FOOTNOTE_REF_ID = re.compile(r"fnref([0-9]+)(?::([0-9]+))?")
# End tags after a newline at the end of a container's last HTML block.
_END_TAGS_AT_END = re.compile(r"\n((?:</[^<>\s/]+>)+)\Z")
# The browser's formatting elements (reopened after a container's end) and the elements a
# list item's or quote's end tag stops at (their scope).
_FORMATTING = _words("a b big code em font i nobr s small strike strong tt u")
_SCOPES = _words("applet caption html table td th marquee object template math svg select")
# Delimiters an emphasis may take, in order of preference; None: the element's own tags.
_DELIMITERS = {"em": ("*", "_", None), "strong": ("**", "__", None), "s": ("~~", None)}


def html_to_markdown(
    html: str,
    *,
    vault_name: str,
    vault_folder: str = "",
    curly_clozes: bool = False,
    highlight_clozes: bool = False,
) -> str:
    """The markdown that notecards renders to `html` (a field as Anki holds it).

    The renderer's settings the inverse needs: `vault_name` and `vault_folder` (as in
    `VaultConfig`: `obsidian://open?vault=NAME&file=FOLDER/...` links are the vault's
    wikilinks); `curly_clozes`: the field renders `{...}` as clozes (a cloze note type in a
    vault with curly clozes), so a `{` of text is escaped; `highlight_clozes`: its `==...==`
    are clozes, so a `<mark>` stays HTML.

    What the markdown cannot say exactly is written as close as it goes (a top level with
    text between blocks gains a `<p>`); a caller that needs the guarantee renders the result
    and compares, as the pull does."""
    # First as Anki's editor keeps it (`<br>`, no newline inside `\\[...\\]`): what an older
    # release pushed and what Anki holds now then read alike.
    kept = anki_form(html.translate(_SENTINELS))
    soup = BeautifulSoup(
        kept,
        "html.parser",
        multi_valued_attributes=None,  # `class` as written, not a list
        preserve_whitespace_tags={"[document]"},  # BeautifulSoup folds white space elsewhere
    )
    converter = _Converter(vault_name, vault_folder, curly_clozes, highlight_clozes)
    try:
        return converter.convert_soup(soup).replace(_LAZY, "")
    except RecursionError:
        # Nested deeper than a walk of Python's stack goes (hundreds of elements, no field
        # a person wrote): the HTML itself, which the pull renders and checks as any result.
        return kept


def vault_html_to_markdown(html: str, config: VaultConfig, *, cloze: bool) -> str:
    """`html_to_markdown` with every setting the vault's renderer wrote `html` under: its
    obsidian:// links' vault and folder, and for a cloze note type its curly clozes and
    highlight clozes."""
    return html_to_markdown(
        html,
        vault_name=config.vault_name,
        vault_folder=config.vault_folder,
        curly_clozes=cloze and config.curly_cloze,
        highlight_clozes=cloze and config.highlights_to_cloze,
    )


@dataclass
class _Delimited:
    """An emphasis (or strikethrough, highlight) whose delimiters `_Inline` picks."""

    kind: str  # em, strong, s, mark
    tag: str  # the element's name, for the HTML fallback


class _Converter(MarkdownConverter):
    """markdownify's converter with notecards' rules; one per conversion (it keeps the
    emphasis delimiters of the field it converts)."""

    def __init__(
        self, vault_name: str, vault_folder: str, curly_clozes: bool, highlight_clozes: bool
    ):
        super().__init__()
        self.open_url = f"obsidian://open?vault={quote(vault_name, safe='')}&file="
        self.folder = f"{vault_folder}/" if vault_folder else ""
        self.curly_clozes = curly_clozes
        self.highlight_clozes = highlight_clozes
        self.emphases: list[_Delimited] = []
        self.list_markers: dict[int, int] = {}  # id of a list -> the marker it took (0, 1)

    # -- the walk ---------------------------------------------------------------------

    def get_conv_fn(self, tag_name: str):
        """This class's rule for the tag, or None: markdownify's own rules write markdown
        that renders otherwise (`**` for `<b>`), so they are not used."""
        name = "convert_" + re.sub(r"[\[\]:-]", "_", tag_name.lower())
        if name in _Converter.__dict__:
            return getattr(self, name)
        if heading := _HEADING.fullmatch(tag_name.lower()):
            return partial(self.convert_hN, int(heading[1]))
        return None

    def process_tag(self, node: Tag, parent_tags: set[str] | None = None) -> str:
        """Dispatch to `convert_<tag>`; an element with no rule stays HTML. Unlike
        markdownify's walk, children are converted by the rule that needs them (a block
        container groups them into paragraphs and blocks), and white space is kept."""
        parent_tags = set() if parent_tags is None else parent_tags
        convert = self.get_conv_fn_cached(node.name)
        if convert is None:
            return self.as_html(node, parent_tags)
        return convert(node, "", parent_tags)

    def process_text(self, el: NavigableString, parent_tags: set[str] | None = None) -> str:
        """Text as a piece `_Inline` escapes later; math and `[sound:...]` split out."""
        if isinstance(el, Comment):
            return f"<!--{el}-->"
        if isinstance(el, (Declaration, Doctype, ProcessingInstruction)):
            return ""  # a browser drops these from a field
        text = str(el)
        before, after = el.previous_sibling, el.next_sibling
        if _is_block(before) or (before is None and _is_container(el.parent)):
            text = text.lstrip("\n")
        elif isinstance(before, Tag) and before.name == "br" and _softbreak(before):
            text = text.removeprefix("\n")
        elif isinstance(before, Tag) and before.name == "input" and _task_box(before):
            text = text.removeprefix(" ")
        if _is_block(after) or (after is None and _is_container(el.parent)):
            text = text.rstrip("\n")
        elif _backref(after):  # the end of the footnote's text
            text = text.removesuffix(" ").rstrip("\n")
        kind = _LINK_TEXT if "a" in (parent_tags or ()) else _TEXT
        return self.text_pieces(text, kind)

    def text_pieces(self, text: str, kind: str) -> str:
        """Text split into its formulas (each a piece to write as math) and the rest."""
        pieces = []
        at = 0
        in_link = kind == _LINK_TEXT
        for start, end, display in _formulas(text):
            pieces.append(self.sounds(text[at:start], kind))
            if display:
                math = _LINK_DISPLAY if in_link else _DISPLAY
            else:
                math = _LINK_MATH if in_link else _MATH
            pieces.append(f"{_OPEN}{math}{text[start + 2 : end - 2]}{_CLOSE}")
            at = end
        pieces.append(self.sounds(text[at:], kind))
        return "".join(pieces)

    def sounds(self, text: str, kind: str) -> str:
        """`[sound:name]` as the embed `![[name]]` that renders it, where it is a sound."""
        pieces = []
        at = 0
        for found in _SOUND.finditer(text):
            name = found[1]
            if media_kind(name) == "sound" and _embeddable(name):
                pieces += [_piece(kind, text[at : found.start()]), f"![[{name}]]"]
                at = found.end()
        pieces.append(_piece(kind, text[at:]))
        return "".join(pieces)

    def children(self, node: Tag, parent_tags: set[str]) -> str:
        tags = parent_tags | {node.name}
        return "".join(self.process_element(child, tags) for child in node.children)

    def blocks(self, node: Tag, parent_tags: set[str], *, skip: int = 0) -> list[str]:
        """A container's children as markdown blocks: each run of inline nodes a
        paragraph (display math standing alone a `$$` block), each block element its own.
        Inline nodes right after a block kept as HTML belong to that HTML (markdown reads
        the rest of its line as HTML too)."""
        tags = parent_tags | {node.name}
        out: list[str] = []
        run: list[NavigableString | Tag] = []
        last_block: Tag | None = None
        notes_after_html = False
        # Whether markdown writes this container's paragraphs in `<p>`: inline content bare
        # there is what an HTML block left (a tag alone on its line begins one).
        wraps = "_tight" not in tags and (
            not isinstance(node, BeautifulSoup) or any(_is_block(c) for c in node.children)
        )

        def flush() -> None:
            same_line = bool(run) and not (
                isinstance(run[0], NavigableString) and str(run[0]).startswith("\n")
            )
            after_html = bool(out) and isinstance(out[-1], _Html)
            # In a tight item no blank line ends the HTML: what follows is HTML too; where
            # markdown wraps paragraphs, inline content left bare after it was HTML too.
            # (Display math alone is a `$$` block, which markdown writes bare.)
            bare = wraps and not all(_blank(n) or _display_only(n) for n in run)
            swallowed = after_html and ("_tight" in tags or bare)
            glued = same_line and after_html and run[0].previous_sibling is last_block
            if run and (swallowed or glued):
                out[-1] = _Html(out[-1] + "".join(_html_of(n) for n in run))
            elif run and wraps and _opens_with_a_tag(run):
                html = "".join(_html_of(n) for n in run)
                if _TAG_LINE.match(html.lstrip("\n")):  # a tag alone: raw HTML to the end
                    append(_Html(html.strip("\n")))
                else:
                    as_markdown()
            else:
                as_markdown()
            run.clear()

        def as_markdown() -> None:
            if run and not all(_blank(n) for n in run):
                for kind, content in _paragraphs(self.concat(run, tags)):
                    if kind == _DISPLAY:
                        append(_display_block(content, _list_indent(tags)))
                    else:
                        append(self.inline(content))

        def append(block: str) -> None:
            if out and isinstance(out[-1], _Html):  # its own end, not a blank line
                out[-1] = _Html(out[-1].rstrip("\n"))
            out.append(block)

        for child in list(node.children)[skip:]:
            if _backref(child):
                continue  # written again with the footnote's definition
            if _is_block(child):
                flush()
                block = self.process_element(child, tags)
                glued = child.previous_sibling is last_block is not None
                after_html = bool(out) and isinstance(out[-1], _Html)
                if after_html and "_tight" in tags:
                    out[-1] = _Html(out[-1] + _html_of(child))
                elif glued and isinstance(block, _Html) and after_html:
                    out[-1] = _Html(out[-1] + block)  # no newline between the two
                elif block and notes_after_html and child.name == "section":
                    out.insert(-1, block)  # the HTML last, as nothing ends its line then
                elif block:
                    append(block)
                # Footnotes right after HTML: that HTML ended the markdown, with no newline.
                notes_after_html = glued and after_html and child.get("class") == "footnotes-sep"
                last_block = child
            else:
                run.append(child)
        flush()
        if out and isinstance(out[-1], _Html) and isinstance(node, Tag) and _is_container(node):
            out[-1] = _Html(_left_open(out[-1]))
        append("")  # the last block's end
        return out[:-1]

    def concat(self, nodes: list, tags: set[str]) -> str:
        return "".join(self.process_element(n, tags) for n in nodes)

    def inline(self, pieces: str, *, block_start: bool = True) -> str:
        return _Inline(self, pieces, block_start=block_start).markdown()

    def one_line(self, el: Tag, parent_tags: set[str], *, block_start: bool = True) -> str:
        """Content markdown holds on one line (a heading, a table cell, a callout's
        title): a `<br>` there stays HTML."""
        pieces = self.children(el, parent_tags | {"_inline"})
        return self.inline(pieces, block_start=block_start)

    # -- documents and blocks ---------------------------------------------------------

    def convert__document_(self, el: BeautifulSoup, text: str, parent_tags: set[str]) -> str:
        content = [c for c in el.children if not _blank(c)]
        if len(content) == 1 and isinstance(content[0], Tag) and content[0].name == "p":
            return _verbatim(content[0])  # a lone paragraph renders without its <p>
        if lines := self.div_lines(el, content, parent_tags):
            return lines
        return "\n\n".join(self.blocks(el, parent_tags))

    def div_lines(self, el: BeautifulSoup, content: list, parent_tags: set[str]) -> str | None:
        """Text followed by `<div>` lines (an older editor's Return): one paragraph with
        the divs as inline HTML, as markdown renders a lone paragraph without `<p>`."""
        divs = [c for c in content if _is_block(c)]
        if not divs or _is_block(content[0]) or "\n" in el.get_text():
            return None  # a newline there is markdown's: these are no editor's lines
        if any(
            d.name != "div" or d.attrs or any(_is_block(x) for x in d.descendants) for d in divs
        ):
            return None
        written = self.inline(self.children(el, parent_tags | {"_div_lines"}))
        return None if re.search(r"(?m)^<div", written) else written

    def convert_p(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if el.attrs:
            return _verbatim(el)
        return self.inline(self.children(el, parent_tags))

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        if el.attrs:
            return _verbatim(el)
        lines = "\n" in el.get_text()  # (math that spans lines)
        if n <= 2 and (
            lines or any(isinstance(b, Tag) and b.name == "br" and _softbreak(b) for b in el)
        ):
            underline = "=" if n == 1 else "-"  # a heading of lines: setext's
            return self.inline(self.children(el, parent_tags)) + "\n" + underline * 3
        content = self.one_line(el, parent_tags)
        if closing := re.search(r"(?:^|[ \t])(#+)$", content):  # markdown would drop it
            content = f"{content[: closing.start(1)]}\\{content[closing.start(1) :]}"
        return f"{'#' * n} {content}".rstrip()

    def convert_hr(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if el.get("class") == "footnotes-sep" and len(el.attrs) == 1:
            return ""  # written again with the footnotes
        return "---" if not el.attrs else _verbatim(el)

    def convert_blockquote(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if el.attrs:
            return _verbatim(el)
        return _quoted("\n\n".join(self.blocks(el, _outside_lists(parent_tags))))

    def convert_div(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A callout as `> [!kind] Title`; any other div stays HTML."""
        if "_div_lines" in parent_tags:
            return self.as_html(el, parent_tags)
        kind = el.get("data-callout", "")
        expected = {
            "class": f"callout callout-{kind}",
            "data-callout": kind,
            "style": callout_style(kind),
        }
        children = [c for c in el.children if not _blank(c)]
        title = children[0] if children else None
        if (
            not re.fullmatch(r"[a-z][\w-]*", kind)
            or el.attrs != expected
            or not isinstance(title, Tag)
            or title.name != "div"
            or title.attrs != {"class": "callout-title", "style": "font-weight: bold;"}
        ):
            return _verbatim(el)
        heading = self.one_line(title, parent_tags, block_start=False)
        head = f"[!{kind}]" if heading == kind.capitalize() else f"[!{kind}] {heading}"
        skip = list(el.children).index(title) + 1
        body = self.blocks(el, _outside_lists(parent_tags), skip=skip)
        if not body:
            return _quoted(head)
        first = children[1] if len(children) > 1 else None
        joint = "\n" if isinstance(first, Tag) and first.name == "p" else "\n\n"
        return _quoted(head + joint + "\n\n".join(body))

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Code as a fence with its language, where the highlighter colours the fence's text
        as the block is coloured; other code (typed in Anki's editor, which colours
        nothing) stays HTML: a fence would render other spans."""
        code = el.find("code", recursive=False)
        if code is None or [c for c in el.children if c is not code]:
            return _verbatim(el)
        language = (code.get("class") or "").removeprefix("language-")
        source = code.get_text()
        written = anki_form(_serialized(el))
        if (code.attrs and code.attrs != {"class": f"language-{language}"}) or re.search(
            r"\s", language
        ):
            return _verbatim(el)
        mark = "~" if "`" in language else "`"  # a backtick fence's info holds none
        fence = mark * max([3, *(len(run) + 1 for run in re.findall(f"{mark}+", source))])
        for body in ("", source) if source == "\n" else (source,):
            if (body.endswith("\n") or not body) and _code_html(body, language) == written:
                return f"{fence}{language}\n{body}{fence}"
        if _ends_field(el) and source and _code_html(source, language) == written:
            return f"{fence}{language}\n{source}"  # no newline at its end: a fence left open
        return _verbatim(el)

    def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A table as markdown writes it: one header row, then the body's rows."""
        parts = [c for c in el.children if not _blank(c)]
        head = parts[0] if parts else None
        if (
            el.attrs
            or not isinstance(head, Tag)
            or head.name != "thead"
            or len(parts) > 2
            or (len(parts) == 2 and (not isinstance(parts[1], Tag) or parts[1].name != "tbody"))
        ):
            return _verbatim(el)
        rows = [r for part in parts for r in part.children if not _blank(r)]
        header = rows[0] if rows else None
        if (
            header is None
            or head.attrs
            or any(not isinstance(r, Tag) or r.name != "tr" or r.attrs for r in rows)
        ):
            return _verbatim(el)
        cells = [[c for c in r.children if not _blank(c)] for r in rows]
        width = len(cells[0])
        aligns = [self.alignment(c) for c in cells[0]]
        body_rows = len(rows) - len([r for r in head.children if not _blank(r)])
        if (
            width == 0
            or len(cells[0]) != len([r for r in head.children if not _blank(r)]) * width
            or any(len(row) != width for row in cells)
            or any(a is None for a in aligns)
            or any(
                not isinstance(c, Tag)
                or c.name != ("th" if i == 0 else "td")
                or self.alignment(c) != aligns[j]
                for i, row in enumerate(cells)
                for j, c in enumerate(row)
            )
            or body_rows != len(cells) - 1
        ):
            return _verbatim(el)
        lines = [self.table_row(row, parent_tags) for row in cells]
        rule = {"": "---", "left": ":---", "right": "---:", "center": ":---:"}
        lines.insert(1, "| " + " | ".join(rule[a] for a in aligns) + " |")
        return "\n".join(lines)

    @staticmethod
    def alignment(cell: object) -> str | None:
        if not isinstance(cell, Tag):
            return None
        style = cell.attrs.get("style")
        if set(cell.attrs) - {"style"}:
            return None
        if style is None:
            return ""
        found = re.fullmatch(r"text-align:(left|right|center)", style)
        return found[1] if found else None

    def table_row(self, cells: list[Tag], parent_tags: set[str]) -> str:
        written = [self.one_line(c, parent_tags).replace("|", "\\|") for c in cells]
        return "| " + " | ".join(written) + " |"

    def convert_list(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """`-` or `1.` items (the marker another than the list's before, which markdown would
        join); a loose list's with blank lines between items and their blocks."""
        items = [c for c in el.children if not _blank(c)]
        ordered = el.name == "ol"
        allowed = {"class"} | ({"start"} if ordered else set())
        if (
            set(el.attrs) - allowed
            or el.get("class", "contains-task-list") != "contains-task-list"
            or not items
            or any(not isinstance(i, Tag) or i.name != "li" for i in items)
            or (ordered and not re.fullmatch(r"[0-9]{1,9}", el.get("start", "1")))
        ):
            return _verbatim(el)
        # Loose where items hold paragraphs, tight where they hold inline content bare; in
        # between (blocks only, display math a block) either renders alike, and loose ends
        # what runs on to a blank line there (an HTML block, a table's rows).
        loose = any(isinstance(c, Tag) and c.name == "p" for i in items for c in i.children)
        loose = loose or not any(
            not _blank(c) and not _is_block(c) and not _display_only(c)
            for i in items
            for c in i.children
        )
        repeat = self.markers_before(el)
        start = int(el.get("start", "1"))
        written = []
        for number, item in enumerate(items, start):
            marker = f"{number}{'.)'[repeat]}" if ordered else "-*"[repeat]
            if set(item.attrs) - {"class"} or item.get("class", "task-list-item") != (
                "task-list-item"
            ):
                return _verbatim(el)
            base = _list_indent(parent_tags)
            marker = _item_marker(marker, ordered and number > start, item, base)
            indent = " " * (len(marker) + 1)
            depth = base + len(indent)
            tags = _outside_lists(parent_tags) | {el.name, f"_indent={depth}"}
            tags |= set() if loose else {"_tight"}
            blocks = self.blocks(item, tags)
            if not loose:
                blocks = ["***" if b == "---" else b for b in blocks]
            content = ("\n\n" if loose else "\n").join(blocks)
            lines = content.split("\n")
            first = f"{marker} {lines[0]}" if lines[0] else marker
            written.append("\n".join([first, *_indented(lines[1:], indent)]))
        return ("\n\n" if loose else "\n").join(written)

    convert_ul = convert_list
    convert_ol = convert_list

    def markers_before(self, el: Tag) -> int:
        """0 or 1, the marker a list takes: another than a list of its kind right before
        it (markdown would read the two as one list)."""
        sibling = el.previous_sibling
        while sibling is not None and _blank(sibling):
            sibling = sibling.previous_sibling
        same = isinstance(sibling, Tag) and sibling.name == el.name
        marker = 1 - self.list_markers.get(id(sibling), 1) if same else 0
        self.list_markers[id(el)] = marker
        return marker

    def convert_section(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """The footnotes, as the definitions `[^1]: ...` that numbered them."""
        notes = [c for c in el.children if not _blank(c)]
        items = [c for c in notes[0].children if not _blank(c)] if notes else []
        if (
            el.attrs != {"class": "footnotes"}
            or len(notes) != 1
            or not isinstance(notes[0], Tag)
            or notes[0].name != "ol"
            or notes[0].attrs != {"class": "footnotes-list"}
            or any(
                not isinstance(item, Tag)
                or item.attrs != {"id": f"fn{n}", "class": "footnote-item"}
                for n, item in enumerate(items, 1)
            )
        ):
            return _verbatim(el)
        written = []
        for n, item in enumerate(items, 1):
            depth = _list_indent(parent_tags) + 4
            tags = _outside_lists(parent_tags) | {"section", f"_indent={depth}"}
            blocks = self.blocks(item, tags)
            lines = "\n\n".join(blocks).split("\n")
            rest = _indented(lines[1:], "    ")
            written.append("\n".join([f"[^{n}]: {lines[0]}".rstrip(), *rest]))
        return "\n\n".join(written)

    # -- inline elements --------------------------------------------------------------

    def as_html(self, el: Tag, parent_tags: set[str]) -> str:
        """An element markdown has no form for: its tags as HTML around its converted
        content (inline), or all of it as HTML (a block)."""
        if el.name in _BLOCK_NAMES and not (el.name == "div" and "_div_lines" in parent_tags):
            return _verbatim(el)
        if el.name in VOID:
            return start_tag(el.name, el.attrs)
        return f"{start_tag(el.name, el.attrs)}{self.children(el, parent_tags)}</{el.name}>"

    def emphasis(self, el: Tag, kind: str, parent_tags: set[str]) -> str:
        if el.attrs:
            return self.as_html(el, parent_tags)
        index = len(self.emphases)
        self.emphases.append(_Delimited(kind, el.name))
        content = self.children(el, parent_tags)
        return f"{_OPEN}{_OPENER}{index}{_CLOSE}{content}{_OPEN}{_CLOSER}{index}{_CLOSE}"

    def convert_em(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self.emphasis(el, "em", parent_tags)

    def convert_strong(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self.emphasis(el, "strong", parent_tags)

    def convert_s(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return self.emphasis(el, "s", parent_tags)

    def convert_mark(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if self.highlight_clozes or "mark" in parent_tags:
            return self.as_html(el, parent_tags)
        return self.emphasis(el, "mark", parent_tags)

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "_inline" not in parent_tags and _softbreak(el):
            # Right after a task box's space, which the box's markup writes: a bare newline
            # there would drop it (markdown strips a line's trailing space), `\\` keeps it.
            spaced = el.previous_sibling
            after_box = isinstance(spaced, NavigableString) and str(spaced) == " "
            box = spaced.previous_sibling if after_box else None
            hard = isinstance(box, Tag) and box.name == "input" and _task_box(box)
            return _piece(_BREAK, "\\\n" if hard else "\n")
        return "<br>"

    def convert_code(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A code span; the command of a demo link as that link."""
        source = el.get_text()
        if el.attrs or any(isinstance(c, Tag) for c in el.children) or "\n" in source:
            return self.as_html(el, parent_tags)
        demo = re.fullmatch(r"notecards demo ([A-Za-z0-9_\-]+)", source)
        if demo and demo[1] in DEMOS and "a" not in parent_tags:
            return f"[{demo_command(demo[1])}](notecards://demo/{demo[1]})"
        fence = "`" * max((len(run) + 1 for run in re.findall("`+", source)), default=1)
        pad = source.startswith("`") or source.endswith("`")
        pad = pad or (source[:1] == source[-1:] == " " and source.strip(" "))
        space = " " if pad else ""
        # Right after another code span, the backticks would run into its closer (`a``b`
        # is one span): an empty Obsidian comment between them renders to nothing.
        after_code = isinstance(el.previous_sibling, Tag) and el.previous_sibling.name == "code"
        return f"{'%%%%' if after_code else ''}{fence}{space}{source}{space}{fence}"

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if _backref(el):
            return ""
        href = el.get("href", "")
        if href.startswith(self.open_url) and set(el.attrs) == {"href"}:
            wikilink = self.wikilink(el, href.removeprefix(self.open_url))
            if wikilink:
                return wikilink
        if (
            set(el.attrs) - {"href", "title"}
            or list(el.attrs)[:1] != ["href"]
            or "a" in parent_tags
        ):
            return self.as_html(el, parent_tags)
        if normalizeLink(href) != href or not validateLink(href):
            return self.as_html(el, parent_tags)
        title = el.get("title")
        label = el.get_text()
        plain = all(isinstance(c, NavigableString) for c in el.children)
        if title is None and plain and _autolink(label, href):
            return f"<{label}>"
        target = _destination(href)
        if target is None:
            return self.as_html(el, parent_tags)
        if title is not None:
            target += ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"[{self.children(el, parent_tags)}]({target})"

    def wikilink(self, el: Tag, quoted: str) -> str | None:
        """`[[Note]]`, `[[Note#Heading]]` or `[[Note|alias]]` for a link the renderer wrote
        from one (it shows `Note > Heading` for a heading), or None where no wikilink
        renders to it."""
        opened = unquote(quoted)
        file = opened.removeprefix(self.folder)
        shown = el.get_text()
        path, _, heading = file.partition("#")
        name = path.rsplit("/", 1)[-1]
        if (
            quote(opened, safe="") != quoted
            or not opened.startswith(self.folder)
            or any(isinstance(c, Tag) for c in el.children)
            or not shown
            or shown != shown.strip()
            or any(bad in shown for bad in ("\n", "[", "]]"))
            or not name
            or any(part != part.strip() for part in (path, heading, name))
            or any(bad in file for bad in "|[]\n")
        ):
            return None
        if not heading:
            return f"[[{shown}]]" if shown in (name, path) else f"[[{name}|{shown}]]"
        for written in (name, path):
            if shown == f"{written} > {heading}":
                return f"[[{written}#{heading}]]"
        return f"[[{name}#{heading}|{shown}]]"

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """`![[name]]`, `![[name|200]]`, `![[name|alt]]` for a vault image; a markdown
        image where that is what renders the same (a URL, a title, an alt an embed cannot
        hold)."""
        attrs = el.attrs
        keys = list(attrs)
        src = attrs.get("src", "")
        local = bool(src) and not re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", src)
        if local and media_kind(src) == "image" and _embeddable(src):
            if keys == ["src"]:
                return f"![[{src}]]"
            size = [attrs.get("width", ""), attrs.get("height", "")]
            if keys in (["src", "width"], ["src", "width", "height"]) and image_size(
                "x".join(v for v in size if v)
            ) == (size[0], size[1]):
                return f"![[{src}|{'x'.join(v for v in size if v)}]]"
            alt = attrs.get("alt", "")
            if (
                keys == ["src", "alt"]
                and alt
                and alt == alt.strip()
                and image_size(alt) is None
                and not any(bad in alt for bad in ("\n", "[", "]]"))
            ):
                return f"![[{src}|{alt}]]"
        if keys[:2] == ["src", "alt"] and set(keys) <= {"src", "alt", "title"} and src:
            target = _destination(src)
            if target is not None and normalizeLink(src) == src and validateLink(src):
                title = attrs.get("title")
                if title is not None:
                    target += ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
                alt = self.text_pieces(attrs["alt"], _LINK_TEXT)
                return f"![{alt}]({target})"
        return self.as_html(el, parent_tags)

    def convert_input(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if _task_box(el):
            return f"[{_CHECKBOX[tuple(el.attrs.items())]}] "
        return self.as_html(el, parent_tags)

    def convert_sup(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A footnote reference as `[^n]` (its definitions are numbered in order)."""
        link = el.find("a", recursive=False)
        if (
            el.attrs == {"class": "footnote-ref"}
            and link is not None
            and len(el.contents) == 1
            and (ref := _FOOTNOTE_REF.fullmatch(link.get("href", "")))
            and (ident := _FOOTNOTE_REF_ID.fullmatch(link.get("id", "")))
            and ident[1] == ref[1]
            and list(link.attrs) == ["href", "id"]
            and link.get_text() == (f"[{ref[1]}:{ident[2]}]" if ident[2] else f"[{ref[1]}]")
        ):
            return f"[^{ref[1]}]"
        return self.as_html(el, parent_tags)


class _Inline:
    """One paragraph's (or heading's, cell's) inline markdown, finished: its text escaped
    only where markdown would read it otherwise, its math written as `$...$` where the
    math rules read it back (else as the text it is in the HTML), each emphasis given
    delimiters its neighbours let markdown read back."""

    def __init__(self, converter: _Converter, pieces: str, *, block_start: bool):
        self.converter = converter
        self.block_start = block_start
        # (kind, value): kind "" for final markup.
        self.parts: list[tuple[str, str]] = []
        at = 0
        for found in _PIECE.finditer(pieces):
            if found.start() > at:
                self.parts.append(("", pieces[at : found.start()]))
            self.parts.append((found[1], found[2]))
            at = found.end()
        if at < len(pieces):
            self.parts.append(("", pieces[at:]))

    def markdown(self) -> str:
        self.write_breaks()
        self.write_math()
        self.escape_texts()
        self.choose_delimiters()
        return _dollars("".join(value for _, value in self.parts), block_start=self.block_start)

    # -- neighbours ---------------------------------------------------------------------

    def before(self, index: int) -> str:
        """The last character written before part `index` ("" at the start; a placeholder
        for a delimiter not yet chosen)."""
        for at in range(index - 1, -1, -1):
            kind, value = self.parts[at]
            if kind in (_OPENER, _CLOSER):
                return "\0"
            if value:
                return value[-1]
        return ""

    def after(self, index: int) -> str:
        for at in range(index + 1, len(self.parts)):
            kind, value = self.parts[at]
            if kind in (_OPENER, _CLOSER):
                return "\0"
            if value:
                return value[0]
        return ""

    def line_start(self, index: int) -> bool:
        previous = self.before(index)
        return previous == "\n" or (previous == "" and self.block_start)

    def block_starts(self, index: int) -> bool:
        return self.before(index) == "" and self.block_start

    def line_ends(self, index: int) -> bool:
        return self.after(index) in ("", "\n")

    def math_block_line(self, index: int) -> bool:
        """Whether part `index` is on a block's first line that begins with display math
        written `$$`: dollarmath reads that line as a `$$` block if it ends in `$$` too."""
        line = [(kind, value) for kind, value in self.parts[:index] if value]
        return (
            self.block_start
            and bool(line)
            and line[0][0] == ""
            and line[0][1].startswith("$$")
            and not any(kind == "" and "\n" in value for kind, value in line)
        )

    # -- line breaks ------------------------------------------------------------------

    def write_breaks(self) -> None:
        """A line break as a newline; one that starts a line (a paragraph's first, one
        after another) as `\\` and a newline, as a bare newline there would end the
        paragraph or be dropped."""
        for index, (kind, written) in enumerate(self.parts):
            if kind == _BREAK:
                hard = written == "\\\n" or self.line_start(index)
                self.parts[index] = ("", "\\\n" if hard else "\n")

    # -- math -------------------------------------------------------------------------

    def write_math(self) -> None:
        for index, (kind, tex) in enumerate(self.parts):
            text = _LINK_TEXT if kind in (_LINK_MATH, _LINK_DISPLAY) else _TEXT
            if kind in (_MATH, _LINK_MATH):
                self.parts[index] = self.inline_math(index, tex, text)
            elif kind in (_DISPLAY, _LINK_DISPLAY):
                self.parts[index] = self.display_math(index, tex, text)

    def inline_math(self, index: int, tex: str, text: str) -> tuple[str, str]:
        before, after = self.before(index), self.after(index)
        readable = (
            tex
            and tex[0] not in _WHITE
            and tex[-1] not in _WHITE
            and not _unescaped_dollar(tex)
            and not tex.endswith("\\")  # it would escape the closing `$`
            and not before.isdigit()
            and not after.isdigit()
            and before != "\\"
            and _lines_stay_in_paragraph(tex.split("\n")[1:])
            # (its `$` closer and that of `\\$`, ending a line that `$$` begins: a `$$` block)
            and not (tex.endswith("$") and self.line_ends(index) and self.math_block_line(index))
        )
        return ("", f"${tex}$") if readable else (text, f"\\({tex}\\)")

    def display_math(self, index: int, tex: str, text: str) -> tuple[str, str]:
        before, after = self.before(index), self.after(index)
        readable = (
            tex
            and "$$" not in tex
            and "$" not in (tex[0], tex[-1])  # `$$$`: a closer, then a `$` of text
            and not tex.endswith("\\")
            and not before.isdigit()
            and not after.isdigit()
            and before != "\\"
            and _lines_stay_in_paragraph(tex.split("\n")[1:])
        )
        # `$$` opening a paragraph is a block where its line ends in `$$` too (alone, or a
        # formula closes the line), and where it does not close on that line (a later line
        # of the container ending in `$$` closes it, blank lines and all).
        opens_block = self.block_starts(index) and (after in ("", "\n") or "\n" in tex)
        if not readable or opens_block or (self.line_ends(index) and self.math_block_line(index)):
            return (text, f"\\[{tex}\\]")
        own_lines = before == "\n" and after in ("", "\n")
        if own_lines and _lines_stay_in_paragraph(tex.split("\n")[:1]):
            return ("", f"$$\n{tex}\n$$")  # on lines of its own, as the vault writes it
        return ("", f"$${tex}$$")

    # -- text -------------------------------------------------------------------------

    def escape_texts(self) -> None:
        highlights = 0  # open around the part
        for index, (kind, text) in enumerate(self.parts):
            if kind in (_OPENER, _CLOSER) and self.converter.emphases[int(text)].kind == "mark":
                highlights += 1 if kind == _OPENER else -1
            elif kind in (_TEXT, _LINK_TEXT):
                scanned = kind == _LINK_TEXT or highlights > 0
                self.parts[index] = ("", self.escaped(index, text, kind == _LINK_TEXT, scanned))

    def escaped(self, index: int, text: str, in_link: bool, scanned: bool) -> str:
        """The text escaped, right to left: whether a `\\` escapes what follows, or a `!`
        makes an image of it, depends on how that is written (`&nbsp;`, `\\[`). `scanned`:
        the text is a link's or a highlight's, which markdown scans for its end."""
        before, after = self.before(index), self.after(index)
        last_space = self.line_ends(index) and text[-1] in " \t"
        braces = _cloze_braces(text, scanned) if self.converter.curly_clozes else set()
        if not (last_space or braces or _MAY_ESCAPE.search(text)):  # most text: as it is
            return self.at_line_start(index, text)
        # A paragraph's text ending in ` ^id` (or all `^id`): a block id, hidden but escaped.
        block_id = _BLOCK_ID_END.search(text) if self.after(index) == "" else None
        if block_id and not (block_id.start() or _among(before, " \t\n") or before == ""):
            block_id = None
        out: list[str] = []
        for at in range(len(text) - 1, -1, -1):
            char = text[at]
            previous = text[at - 1] if at else before
            following = out[-1][:1] if out else after
            if last_space and at == len(text) - 1:
                out.append(f"&#{ord(char)};")
            elif at in braces:
                out.append("\\{")
            elif block_id and at == block_id.start():
                out.append("\\^")
            elif char == "\\":
                escape = following == "" or _among(following, _ESCAPABLE)
                out.append("\\\\" if escape else char)
            elif char == "!":  # before a `[` that opens a link: an image
                out.append("\\!" if following == "[" else char)
            else:
                raw_following = text[at + 1] if at + 1 < len(text) else after
                written_before = _ENTITY_ENDS.get(previous, previous)
                written_after = _ENTITY_STARTS.get(raw_following, raw_following)
                out.append(_escape_char(text, at, written_before, written_after, in_link))
        return self.at_line_start(index, "".join(reversed(out)))

    def at_line_start(self, index: int, written: str) -> str:
        if self.line_start(index):
            written = _escape_line_start(written, self.block_starts(index), self.line_ends(index))
        return written

    # -- emphasis -----------------------------------------------------------------------

    def choose_delimiters(self) -> None:
        """Outer emphasis first, so each one's neighbours outside are known."""
        closers = {v: i for i, (k, v) in enumerate(self.parts) if k == _CLOSER}
        openers = [(i, v) for i, (k, v) in enumerate(self.parts) if k == _OPENER]
        enclosing: list[tuple[int, str]] = []  # (closer, delimiter) of those open here
        for start, number in openers:
            end = closers[number]
            while enclosing and enclosing[-1][0] < start:
                enclosing.pop()
            delimited = self.converter.emphases[int(number)]
            outer = {delimiter[:1] for _, delimiter in enclosing}
            for choice in self.choices(delimited):
                if choice is None or self.fits(choice, start, end, outer):
                    break
            enclosing.append((end, choice or ""))
            self.parts[start] = ("", choice or f"<{delimited.tag}>")
            self.parts[end] = ("", choice or f"</{delimited.tag}>")

    def choices(self, delimited: _Delimited) -> tuple[str | None, ...]:
        if delimited.kind == "mark":
            return ("==", None)
        return _DELIMITERS[delimited.kind]

    def fits(self, choice: str, start: int, end: int, enclosing: set[str]) -> bool:
        """Whether markdown reads `choice` around parts start..end as this emphasis, inside
        emphasis delimited by the `enclosing` characters."""
        before, first = self.before(start), self.after(start)
        last, after = self.before(end), self.after(end)
        if end == start + 1:
            return False  # markdown has no empty emphasis
        if choice == "==":
            inside = "".join(v for _, v in self.parts[start + 1 : end])
            return (
                not _among(first, " \t\n=\0") and not _among(last, " \t\n") and ("==" not in inside)
            )
        mark = choice[0]
        if mark in (before, first, last, after):
            return False  # one run of delimiters with its neighbour's
        if mark == "_":
            opens, closes = _underscore_opens(before, first), _underscore_closes(last, after)
            # An opener that could close would close the enclosing one of its kind.
            closes_outer = _underscore_closes(before, first)
        else:
            opens, closes = _left_flanking(before, first), _right_flanking(last, after)
            closes_outer = _right_flanking(before, first)
        return opens and closes and not (closes_outer and mark in enclosing)


# -- characters ---------------------------------------------------------------------------


def _is_space(char: str) -> bool:
    """markdown-it's white space (a line's start or end counts as one)."""
    return char == "" or char in _WHITE or unicodedata.category(char) == "Zs"


def _is_punct(char: str) -> bool:
    """markdown-it's punctuation; a delimiter not yet chosen (`\\0`) is one, whatever
    it becomes."""
    return char != "" and (char in _ESCAPABLE or unicodedata.category(char)[0] in "PS")


def _among(char: str, chars: str) -> bool:
    return char != "" and char in chars


def _left_flanking(before: str, after: str) -> bool:
    return not _is_space(after) and (not _is_punct(after) or _is_space(before) or _is_punct(before))


def _right_flanking(before: str, after: str) -> bool:
    return not _is_space(before) and (not _is_punct(before) or _is_space(after) or _is_punct(after))


def _underscore_opens(before: str, after: str) -> bool:
    left, right = _left_flanking(before, after), _right_flanking(before, after)
    return left and (not right or _is_punct(before))


def _underscore_closes(before: str, after: str) -> bool:
    left, right = _left_flanking(before, after), _right_flanking(before, after)
    return right and (not left or _is_punct(after))


def _escape_char(text: str, at: int, before: str, after: str, in_link: bool) -> str:
    """One character of text as markdown writes it, given its neighbours (`before` and
    `after`: the characters written next to it; "" for the start or end)."""
    char = text[at]
    if char == "$":
        return _DOLLAR
    if char == "\xa0":
        return "&nbsp;"
    if char in "\n\r":
        return f"&#{ord(char)};"
    if char == "`":
        return "\\`"
    if char == "*":
        return char if _is_space(before) and _is_space(after) else "\\*"
    if char == "_":

        def word(c: str) -> bool:
            return not _is_space(c) and not _is_punct(c)

        if (word(before) and word(after)) or (_is_space(before) and _is_space(after)):
            return char
        return "\\_"
    if char in "~=":
        return "\\" + char if char in (before, after) or "\0" in (before, after) else char
    if char == "<":
        return "\\<" if after[:1].isalpha() or _among(after, "/!?\0") else char
    if char == "&":
        return "\\&" if _ENTITY_LIKE.match(text, at) else char
    if char == "[":  # a link, wikilink, footnote (`[^1]`, `^[...]`), checkbox
        # (after a `\\`: math Anki reads, written as text, whose `[` a later `]` may close)
        return "\\[" if in_link or _among(after, "[^\0") or before in ("^", "\\") else char
    if char == "]":
        return "\\]" if in_link or _among(after, "([:\0") else char
    if char == "^":  # before a `[` (a link's, a footnote's): an inline footnote `^[...]`
        return "\\^" if after == "[" else char
    if char == "%":  # `%%` opens an Obsidian comment
        return "\\%" if after == "%" else char
    if char == "(":  # right after markup's `]` (a footnote's, a wikilink's): a destination
        return "\\(" if at == 0 and before == "]" else char
    return char


# The characters `_escape_char` and `escaped` may write otherwise; text without any is
# written as it is.
_MAY_ESCAPE = re.compile(r"[\\!$\xa0\n\r`*_~=<&\[\]%(^]")


def _cloze_braces(text: str, scanned: bool) -> set[int]:
    """Where a `{` of text would open a curly cloze: any but the two of Anki's own `{{`; and
    those two too in a `scanned` text (a link's, a highlight's) that does not hold their
    `}}`: the scan for the text's end skips Anki's cloze whole, to a `}}` beyond it."""
    lone, at = set(), 0
    while (at := text.find("{", at)) >= 0:
        if text.startswith("{{", at):
            if scanned and text.find("}}", at + 2) < 0:
                lone |= {at, at + 1}
            at += 2
        else:
            lone.add(at)
            at += 1
    return lone


def _escape_line_start(text: str, block_start: bool, line_ends: bool) -> str:
    """Escape what would begin a block (a list, heading, quote, rule, table, indented code;
    at a paragraph's start a link definition or a checkbox) at the start of a line."""
    if text[:1] in (" ", "\t"):
        return f"&#{ord(text[0])};" + text[1:]
    if block_start and text.startswith("["):
        return "\\" + text
    if _LIST_MARK.match(text):
        return "\\" + text
    if found := _ORDERED_MARK.match(text):
        return text[: found.start(1)] + "\\" + text[found.start(1) :]
    if line_ends and (_RULE_LINE.fullmatch(text) or _TABLE_DELIMITER_LINE.fullmatch(text)):
        return "\\" + text
    return text


def _dollars(markdown: str, *, block_start: bool) -> str:
    """Each `$` of text escaped where markdown's math rule would open a formula at it:
    decided right to left, as the rule looks right for the first `$` not escaped. And one
    that ends a block's first line begun by display math: a `$$` block otherwise, if the
    `$` before it is one too (`\\$$`, `$$x$$$`)."""
    chars = list(markdown)
    newline = markdown.find("\n")
    last = (newline if newline >= 0 else len(markdown)) - 1  # the first line's last char
    closes_block = block_start and markdown.startswith("$$")
    closing: int | None = None  # the first `$` right of here that is not escaped
    for at in range(len(chars) - 1, -1, -1):
        if chars[at] == _DOLLAR:
            opens = (closes_block and at == last) or _opens_math(chars, at, closing)
            chars[at] = "\\$" if opens else "$"
            closing = closing if opens else at
        elif chars[at] == "$" and not _escaped_at(markdown, at):
            closing = at
    return "".join(chars)


def _opens_math(chars: list[str], at: int, closing: int | None) -> bool:
    """Whether notecards' math rule reads a formula from the `$` at `at`, `closing` the
    first `$` right of it that is not escaped (what is right of `at` is written; a `$` of
    text left of it still a placeholder, which is no digit)."""
    previous = chars[at - 1][-1:] if at else ""
    following = chars[at + 1][:1] if at + 1 < len(chars) else ""
    if previous.isdigit() or _is_space(following):
        return False
    if following in ("$", _DOLLAR) or closing is None:
        return following in ("$", _DOLLAR)  # `$$`: display math, whatever follows
    after = chars[closing + 1][:1] if closing + 1 < len(chars) else ""
    return not _is_space(chars[closing - 1][-1:]) and not after.isdigit()


def _escaped_at(text: str, at: int) -> bool:
    """Whether an odd run of backslashes stands right before `at`."""
    start = at
    while start and text[start - 1] == "\\":
        start -= 1
    return (at - start) % 2 == 1


def _unescaped_dollar(tex: str) -> bool:
    return any(not _escaped_at(tex, m.start()) for m in re.finditer(r"\$", tex))


def _lines_stay_in_paragraph(lines: list[str]) -> bool:
    """Whether these lines of TeX, each beginning a line of a paragraph, stay in it: no
    blank line and none that would begin a block there (or close a `$$`)."""
    for line in lines:
        stripped = line.lstrip(" \t")
        if not stripped or stripped.rstrip(" \t").endswith("$$"):
            return False
        if _LIST_MARK.match(stripped) or _ORDERED_MARK.match(stripped):
            return False
        if stripped.startswith(("```", "~~~", "<", "[^", "%%")):
            return False
        if _RULE_LINE.fullmatch(stripped) or _TABLE_DELIMITER_LINE.fullmatch(stripped):
            return False
        if re.fullmatch(r"([*_])[ \t]*(?:\1[ \t]*){2,}", stripped):  # `***`: a rule
            return False
    return True


# -- pieces and blocks --------------------------------------------------------------------


def _piece(kind: str, text: str) -> str:
    return f"{_OPEN}{kind}{text}{_CLOSE}" if text else ""


def _blank(node: object) -> bool:
    return (
        isinstance(node, NavigableString)
        and not isinstance(node, Comment)
        and not str(node).strip(_WHITE)
    )


def _is_block(node: object) -> bool:
    if isinstance(node, Tag):
        return node.name in _BLOCK_NAMES
    return False


def _is_container(node: object) -> bool:
    return isinstance(node, BeautifulSoup) or (
        isinstance(node, Tag) and node.name in ("li", "blockquote", "div", "section")
    )


def _softbreak(br: Tag) -> bool:
    """Whether a `<br>` is markdown's line break: the newline markdown writes after it
    follows, and the line goes on (more than white space before the block's end)."""
    following = br.next_sibling
    if not isinstance(following, NavigableString) or isinstance(following, Comment):
        return False
    if not str(following).startswith("\n"):
        return False
    if str(following)[1:].strip(_WHITE):
        return True
    node = following.next_sibling
    while node is not None and _blank(node):
        node = node.next_sibling
    return node is not None and not _is_block(node) and not _backref(node)


def _formulas(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, display) of each `\\(...\\)` and `\\[...\\]` in text, as Anki's editor
    reads them (each opener closed by the first closer of its kind). Linear: an opener
    with no closer after it means no later one of its kind closes either."""
    found: list[tuple[int, int, bool]] = []
    next_opener = {"(": -2, "[": -2}  # where each kind opens next (-1: never again)
    at = 0
    while True:
        for kind in next_opener:
            if -1 < next_opener[kind] < at or next_opener[kind] == -2:
                next_opener[kind] = text.find("\\" + kind, at)
        opening = [(where, kind) for kind, where in next_opener.items() if where >= 0]
        if not opening:
            return found
        start, kind = min(opening)
        end = text.find("\\" + _CLOSERS[kind], start + 2)
        if end < 0:
            next_opener[kind] = -1
            at = start + 2
            continue
        found.append((start, end + 2, kind == "["))
        at = end + 2


def _ends_field(el: Tag) -> bool:
    """Whether nothing but white space follows the element in the field (a quote or list
    item it ends may close after it)."""
    node: Tag | BeautifulSoup = el
    while not isinstance(node, BeautifulSoup):
        if any(not _blank(n) for n in node.next_siblings) or node.parent is None:
            return False
        node = node.parent
    return True


def _display_only(node: object) -> bool:
    """Text that is display math alone (a `$$` block) and white space."""
    if not isinstance(node, NavigableString) or isinstance(node, Comment):
        return False
    text = str(node)
    formulas = _formulas(text)
    ends = [0, *(edge for start, end, _ in formulas for edge in (start, end)), len(text)]
    gaps = "".join(text[ends[i] : ends[i + 1]] for i in range(0, len(ends), 2))
    return bool(formulas) and all(display for *_, display in formulas) and not gaps.strip(_WHITE)


def _backref(node: object) -> bool:
    return isinstance(node, Tag) and node.get("class") == "footnote-backref"


def _task_box(el: Tag) -> bool:
    """The checkbox the task list plugin writes first in an item, a space (or the line's
    end) after it."""
    parent = el.parent
    item = parent.parent if parent is not None and parent.name == "p" else parent
    following = el.next_sibling
    return (
        tuple(el.attrs.items()) in _CHECKBOX
        and item is not None
        and item.name == "li"
        and item.get("class") == "task-list-item"
        and parent is not None
        and next((c for c in parent.children if not _blank(c)), None) is el
        and (
            (isinstance(following, NavigableString) and str(following).startswith(" "))
            or (isinstance(following, Tag) and following.name == "br" and _softbreak(following))
        )
    )


def _paragraphs(pieces: str) -> list[tuple[str, str]]:
    """A run of inline pieces split where markdown's blocks meet: at display math on lines
    of its own (a newline of text there is no line break, which writes `<br>`, but the
    end of a block). Each part `(_DISPLAY, tex)` or `("", pieces)`."""
    items = [(m[1], m[2]) if m[1] else ("", m[0]) for m in _SPLIT.finditer(pieces)]
    blank_after = [False] * len(items)  # whether only white space follows item i
    blank = True
    for at in range(len(items) - 1, -1, -1):
        blank_after[at] = blank
        blank = blank and items[at][0] == _TEXT and not items[at][1].strip(_WHITE)
    parts: list[tuple[str, str]] = []
    current: list[tuple[str, str]] = []
    filled = False  # whether `current` holds more than white space
    for at, (kind, value) in enumerate(items):
        following = items[at + 1] if at + 1 < len(items) else None
        if kind == _DISPLAY:
            opens_line = not filled or (current[-1][0] == _TEXT and current[-1][1].endswith("\n"))
            ends_line = blank_after[at] or (
                following is not None and following[0] == _TEXT and following[1][:1] == "\n"
            )
            if opens_line and ends_line:
                if current and current[-1][0] == _TEXT:
                    current[-1] = (_TEXT, current[-1][1].rstrip("\n"))
                if filled:
                    parts.append(("", _joined(current)))
                parts.append((_DISPLAY, value))
                current, filled = [], False
                if following is not None and following[0] == _TEXT:
                    items[at + 1] = (_TEXT, following[1].removeprefix("\n"))
                continue
        current.append((kind, value))
        filled = filled or kind != _TEXT or bool(value.strip(_WHITE))
    if filled:
        parts.append(("", _joined(current)))
    return parts


def _joined(items: list[tuple[str, str]]) -> str:
    """The pieces again; an empty formula too (`\\[\\]`: text has nothing to write)."""
    return "".join(
        f"{_OPEN}{k}{v}{_CLOSE}" if k and (v or k not in (_TEXT, _LINK_TEXT)) else v
        for k, v in items
    )


def _item_marker(marker: str, renumbered: bool, item: Tag, base: int) -> str:
    """An item's marker (`base`: the column it starts at; one space after it). Where the
    item's display math says its lines began left of where they would (the math rule keeps
    that indent in every line of TeX after the first, and two ordered lists in a row are one
    list to markdown, renumbered: a marker may be wider than the one the TeX was written
    under), an item after an ordered list's first, whose number markdown disregards, gets
    a number of fewer digits."""
    lines = [
        line
        for child in item.children
        if isinstance(child, NavigableString) and not isinstance(child, Comment)
        for start, end, display in _formulas(str(child))
        if display
        for at, line in enumerate(str(child)[start + 2 : end - 2].split("\n"))
        # (the first: the opening line's, unless the editor dropped the newline after it)
        if line.strip(" ") and (at or line.startswith(" "))
    ]
    if not lines:
        return marker
    column = min(len(line) - len(line.lstrip(" ")) for line in lines)
    digits = column - base - 2  # and one space
    if column < base + len(marker) + 1 and renumbered and 1 <= digits <= 9:
        return marker[:-1].zfill(digits)[-digits:] + marker[-1]
    return marker


def _display_block(tex: str, indent: int) -> str:
    """A `$$` block inside list items `indent` columns deep (0: none, or a quote's start).
    The math rule keeps the items' indent in the TeX of every line after the first (its
    closing line's too), so that indent is taken off here and the items put it back."""
    if not tex or ("\n" not in tex and indent):
        return f"$${tex}$$"
    lines = tex.split("\n")
    inside = " " * indent

    def indented(line: str) -> bool:
        return line.startswith(inside) or not line  # a blank line has no indent

    if indent and all(indented(line) for line in lines):
        return "$$\n" + "\n".join(line[indent:] for line in lines) + "$$"
    if indent and not lines[-1].rstrip(" \t").endswith("$$"):
        # Lines left of the items' indent were lazy continuation lines: written as they are;
        # a first line that would close the formula on the opening line, on one of its own.
        own = "$$" in lines[0]
        rest = [line[indent:] if indented(line) else _LAZY + line for line in lines[not own :]]
        return "$$" + "\n".join(["" if own else lines[0], *rest]) + "$$"
    closing = "$$" if lines[-1].rstrip(" \t").endswith("$$") else "\n$$"
    return f"$$\n{tex}{closing}"


def _list_indent(tags: set[str]) -> int:
    """How deep in list items (footnotes) the content is, from its quote or the field."""
    return next((int(t.removeprefix("_indent=")) for t in tags if t.startswith("_indent=")), 0)


def _outside_lists(tags: set[str]) -> set[str]:
    """The tags without the list's depth and tightness: a quote's lines start afresh
    (after its `>`), and a blank line in it ends an HTML block."""
    return {t for t in tags if not t.startswith("_indent=") and t != "_tight"}


def _indented(lines: list[str], indent: str) -> list[str]:
    """An item's lines after its first, each under the item's indent but a lazy one."""
    return [line if line.startswith(_LAZY) or not line else indent + line for line in lines]


def _quoted(text: str) -> str:
    """Each line after `> ` (a lazy line's TeX starts there: lists outside indent it)."""
    lines = (line.removeprefix(_LAZY) for line in text.split("\n"))
    return "\n".join(f"> {line}" if line else ">" for line in lines)


class _Html(str):
    """Markdown that is a block of raw HTML (which markdown goes on reading to a blank line)."""


class _AsWritten(HTMLFormatter):
    """bs4's minimal formatter with each element's attributes in the field's order (bs4's
    own sorts them, which Anki's editor would not)."""

    def attributes(self, tag: Tag) -> list[tuple[str, str]]:
        return list(tag.attrs.items())


_AS_WRITTEN = _AsWritten(entity_substitution=EntitySubstitution.substitute_xml)


def _serialized(el: Tag) -> str:
    return el.decode(formatter=_AS_WRITTEN)


def _verbatim(el: Tag) -> _Html:
    """An element as HTML in markdown: a block of raw HTML the renderer passes through."""
    return _Html(anki_form(_serialized(el)))


def _left_open(html: str) -> str:
    """The HTML a container ends with, its elements' end tags left out where they follow a
    newline: markdown ends an HTML block with a newline, so an element closed after one was
    open when the block ended, and the container's end tag closed it (an autolink's
    `<http://x>` read as a tag). An emphasis or a scope's element is kept: the browser
    opens the first again later, and the container's end tag does not close the second."""
    found = _END_TAGS_AT_END.search(html)
    if found is None:
        return html
    names = re.findall(r"</([^>]+)>", found[1])
    if any(n in _BLOCK_NAMES or n in _FORMATTING or n in _SCOPES for n in names):
        return html
    return html[: found.start(1)]


def _opens_with_a_tag(run: list[NavigableString | Tag]) -> bool:
    """Whether the run's HTML may begin (past its newlines) with a tag: text never does,
    its `<` is written `&lt;`. Spares writing every paragraph out as HTML to look."""
    for node in run:
        if isinstance(node, NavigableString) and not isinstance(node, Comment):
            if str(node).strip("\n"):
                return False
            continue
        return True
    return False


def _html_of(node: NavigableString | Tag) -> str:
    """A node as HTML (a void element written alone: `anki_form` of a lone `<br>` is an
    emptied field's, nothing)."""
    if isinstance(node, Comment):
        return f"<!--{node}-->"
    if isinstance(node, NavigableString):
        return escape_text(str(node))
    if node.name in VOID:
        return start_tag(node.name, node.attrs)
    return anki_form(_serialized(node))


def _code_html(body: str, language: str) -> str:
    """What the renderer writes for a fence with this body and language."""
    written = highlight_code(body, language, None)
    if written.startswith("<pre"):
        return written
    code = start_tag("code", {"class": f"language-{language}"} if language else {})
    return f"<pre>{code}{written}</code></pre>"


def _embeddable(name: str) -> bool:
    """Whether `![[name]]` names this file (the wikilink rule splits at `|` and `#`)."""
    return name == name.strip() and not any(c in name for c in "|#[]\n^")


def _autolink(label: str, href: str) -> bool:
    if _AUTOLINK.fullmatch(label):
        return label == href
    return bool(_EMAIL.fullmatch(label)) and href == f"mailto:{label}"


def _destination(href: str) -> str | None:
    """A link destination markdown reads back as `href`, or None."""
    if not href:
        return "<>"
    if any(c in href for c in "\\\n<>") or _ENTITY_LIKE.search(href):
        return None
    depth = 0
    balanced = True
    for char in href:
        depth += {"(": 1, ")": -1}.get(char, 0)
        balanced = balanced and depth >= 0
    if " " in href or not balanced or depth or any(ord(c) < 32 for c in href):
        return f"<{href}>"
    return href
