"""A field's HTML in the form Anki's editor keeps it.

Opening a note in Anki's editor (26.x) rewrites and saves every field that is not already in
that form: the editor turns `\\[..\\]` and `\\(..\\)` into `<anki-mathjax>` elements (dropping
the newlines next to the delimiters and reading a `<br>` inside as a newline), lets the browser
parse the field, and stores what the browser serializes, the elements turned back into
delimiters. So `<br />` becomes `<br>`, `&quot;` in text `"`, an unclosed `<p>` is closed,
`<b>a<i>b</b>c</i>` is untangled. `anki_form` does the same, so that the sync can compare what
Anki holds with what an older release pushed, and the renderer writes what Anki keeps.

The parser follows the HTML standard's tree construction in the body of a document, the part a
field lives in: implied end tags, formatting elements (reopened, and the adoption agency for
misnested ones), tables (implied `<tbody>`/`<tr>`, foster parenting), foreign `<svg>`/`<math>`
self-closing tags. It was checked against the real editor, snippet by snippet. Not modelled:
SVG's camel-case names, `<template>`, `<select>` and `<frameset>` modes, and past a nesting
depth of 512 (where browsers differ too) elements are kept as siblings, so that a hostile field
costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from html.parser import HTMLParser
from urllib.parse import quote, unquote

_NEWLINES = re.compile(r"\r\n?")
_BLOCK_MATH = re.compile(r"\\\[(.*?)\\\]", re.S)
_INLINE_MATH = re.compile(r"\\\((.*?)\\\)", re.S)
_MATH_BREAK = re.compile(r"<br *\/?>")
MATHJAX = "anki-mathjax"
_BLOCK_OPEN = f'<{MATHJAX} block="true">'
_MATHJAX_ELEMENT = re.compile(rf"<{MATHJAX}\b([^>]*)>(.*?)</{MATHJAX}>", re.S)
# The media references whose file names Anki percent-encodes for the editor and decodes when
# it saves (rslib's HTML_MEDIA_TAGS, read within one tag at a time).
_MEDIA_TAG = re.compile(r"<(?:img|audio|video|object|source)\b[^<>]*>", re.I)
_MEDIA_SOURCE = re.compile(
    r"<(?:img|audio|video|object|source)\b[^>]+?\b(?:src|data)\b="
    r"""(?:"([^"]+?)"[^>]*>|'([^']+?)'[^>]*>|([^ >]+?)(?:\x20[^>]*>|>))""",
    re.I | re.S,
)
_REMOTE = re.compile(r"https?://", re.I)
_PATH_QUOTED = frozenset(' "<>`#\x7f')


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


VOID = _names(
    "area base basefont bgsound br col embed frame hr img input keygen link meta param source "
    "track wbr"
)
# Raw text: what Python's tokenizer reads as such (a browser also reads <xmp>, <iframe>... so).
_RAW_TEXT = frozenset(("style", "script"))
_SPECIAL = _names(
    "address applet area article aside base basefont bgsound blockquote body br button caption "
    "center col colgroup dd details dir div dl dt embed fieldset figcaption figure footer form "
    "frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link "
    "listing main marquee menu meta nav noembed noframes noscript object ol p param plaintext pre "
    "script search section select source style summary table tbody td template textarea tfoot th "
    "thead title tr track ul wbr xmp"
)
_SCOPE = _names("applet caption html table td th marquee object template")
_BUTTON_SCOPE = _SCOPE | {"button"}
_LIST_SCOPE = _SCOPE | {"ol", "ul"}
_TABLE_SCOPE = frozenset(("html", "table", "template"))
_IMPLIED_END = _names("dd dt li optgroup option p rb rp rt rtc")
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul pre listing form "
    "plaintext table hr xmp"
)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
_MARKER_OPENERS = frozenset(("applet", "marquee", "object", "td", "th", "caption"))
_TABLE_PARTS = _names("caption col colgroup tbody td tfoot th thead tr")
_TABLE_CONTEXT = frozenset(("table", "tbody", "thead", "tfoot", "tr"))
_IN_TABLE = _TABLE_PARTS | {"table", "style", "script"}
_IGNORED = frozenset(("html", "body", "head", "frameset", "frame"))
# Start tags that take a foreign (<svg>, <math>) subtree back to HTML.
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img "
    "li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul "
    "var"
)
_MAX_DEPTH = 512
_MAX_PASSES = 4
_MAX_FORMATTING = 512


class Element:
    """An element of the parsed field: its name, attributes (first one of a name wins, as in a
    browser) and children (elements, text as `str`, comments as `Comment`)."""

    __slots__ = ("name", "attrs", "children", "parent", "foreign")

    def __init__(self, name: str, attrs: dict[str, str], foreign: bool = False):
        self.name = name
        self.attrs = attrs
        self.children: list[Element | str] = []
        self.parent: Element | None = None
        self.foreign = foreign

    def append(self, node: Element | str) -> None:
        self.insert(len(self.children), node)

    def insert(self, index: int, node: Element | str) -> None:
        if isinstance(node, Element):
            if node.parent is not None:
                node.parent.children.remove(node)
                if node.parent is self and index > len(self.children):
                    index = len(self.children)
            node.parent = self
        self.children.insert(index, node)


class Comment(str):
    """A comment's text (a `str`, so that text and comments are told apart by type)."""


_MARKER = Element("#marker", {})


class _TreeBuilder(HTMLParser):
    """The body of an HTML document from Python's tokenizer, built as a browser builds it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("html", {})
        self.stack: list[Element] = [self.root]
        self.formatting: list[Element] = []
        self.skip_newline = False

    # -- tokens ------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip_newline = False
        self._start(tag, _attributes(attrs), self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip_newline = False
        self._start(tag, _attributes(attrs), self_closing=True)

    def handle_endtag(self, tag: str) -> None:
        self.skip_newline = False
        self._end(tag)

    def handle_data(self, data: str) -> None:
        data = data.replace("\0", "")
        if self.skip_newline:
            # One newline right after <pre> is dropped at each load, and the editor loads
            # what it saved until nothing changes: no newline is left.
            data = data.lstrip("\n")
        self.skip_newline = False
        if not data:
            return
        if self.current.name in _TABLE_CONTEXT and not data.strip(" \t\n\f\r"):
            self._place(data)  # a table keeps white space; other text goes before it
            return
        self._reconstruct()
        if self.current.name in _TABLE_CONTEXT:
            self._foster(data)
        else:
            self._place(data)

    def handle_comment(self, data: str) -> None:
        self.skip_newline = False
        self.current.append(Comment(data))

    def handle_pi(self, data: str) -> None:
        self.handle_comment(f"?{data}")  # a browser reads `<?x>` as the comment `?x`

    def unknown_decl(self, data: str) -> None:
        self.handle_comment(f"[{data}]")  # `<![CDATA[x]]>` outside SVG: a comment

    def handle_decl(self, decl: str) -> None:
        self.skip_newline = False  # a doctype in a body is dropped

    # -- the stack ------------------------------------------------------------------------

    @property
    def current(self) -> Element:
        return self.stack[-1]

    def _place(self, node: Element | str) -> None:
        """Append at the current node, or before the table where a table cannot hold it."""
        parent = self.current
        if isinstance(node, Element) and _fostered(parent, node):
            self._foster(node)
            return
        if isinstance(node, str) and parent.children and _is_text(parent.children[-1]):
            parent.children[-1] = parent.children[-1] + node
            return
        parent.append(node)

    def _foster(self, node: Element | str) -> None:
        table = next(e for e in reversed(self.stack) if e.name == "table")
        parent = table.parent or self.root
        at = parent.children.index(table)
        if isinstance(node, str) and at and _is_text(parent.children[at - 1]):
            parent.children[at - 1] = parent.children[at - 1] + node
            return
        parent.insert(at, node)

    def _insert(self, name: str, attrs: dict[str, str], *, void: bool = False) -> Element:
        if not void and len(self.stack) > _MAX_DEPTH:
            self.stack.pop()  # the new element becomes a sibling: see the module's docstring
        element = Element(name, attrs, foreign=self.current.foreign or name in ("svg", "math"))
        self._place(element)
        if not void:
            self.stack.append(element)
        return element

    def _in_scope(self, names: str | Collection[str], boundary: frozenset[str]) -> bool:
        """Whether an element named `names` (or one of them) is open within the boundary."""
        names = (names,) if isinstance(names, str) else names
        for element in reversed(self.stack):
            if element.name in names and not element.foreign:
                return True
            if element.name in boundary:
                return False
        return False

    def _pop_until(self, names: str | Collection[str]) -> None:
        names = (names,) if isinstance(names, str) else names
        while len(self.stack) > 1:
            if self.stack.pop().name in names:
                return

    def _implied_end_tags(self, keep: str = "") -> None:
        while self.current.name in _IMPLIED_END and self.current.name != keep:
            self.stack.pop()

    def _close_p(self) -> None:
        if self._in_scope("p", _BUTTON_SCOPE):
            self._implied_end_tags(keep="p")
            self._pop_until("p")

    # -- active formatting elements -----------------------------------------------------

    def _push_formatting(self, element: Element) -> None:
        same = 0
        for index in range(len(self.formatting) - 1, -1, -1):
            entry = self.formatting[index]
            if entry is _MARKER:
                break
            if entry.name == element.name and entry.attrs == element.attrs:
                same += 1
                if same == 3:  # the Noah's Ark clause: at most three alike
                    del self.formatting[index]
                    break
        self.formatting.append(element)
        if len(self.formatting) > _MAX_FORMATTING:
            del self.formatting[0]

    def _reconstruct(self) -> None:
        """Reopen formatting elements a block closed (`<p><b>x</p><p>y` -> `<b>` again)."""
        if not self.formatting:
            return
        last = self.formatting[-1]
        if last is _MARKER or last in self.stack:
            return
        first = len(self.formatting) - 1
        while first > 0:
            entry = self.formatting[first - 1]
            if entry is _MARKER or entry in self.stack:
                break
            first -= 1
        for index in range(first, len(self.formatting)):
            entry = self.formatting[index]
            self.formatting[index] = self._insert(entry.name, dict(entry.attrs))

    def _clear_to_marker(self) -> None:
        while self.formatting:
            if self.formatting.pop() is _MARKER:
                return

    def _adoption_agency(self, name: str) -> bool:
        """The standard's algorithm for the end tag of a formatting element; False where the
        tag is to be handled as any other end tag."""
        if self.current.name == name and self.current not in self.formatting:
            self.stack.pop()
            return True
        for _ in range(8):
            formatting = None
            for entry in reversed(self.formatting):
                if entry is _MARKER:
                    break
                if entry.name == name:
                    formatting = entry
                    break
            if formatting is None:
                return False
            if formatting not in self.stack:
                self.formatting.remove(formatting)
                return True
            if not self._in_scope_element(formatting):
                return True
            at = self.stack.index(formatting)
            furthest = next(
                (e for e in self.stack[at + 1 :] if e.name in _SPECIAL and not e.foreign), None
            )
            if furthest is None:
                del self.stack[at:]
                self.formatting.remove(formatting)
                return True
            self._adopt(formatting, furthest, at)
        return True

    def _in_scope_element(self, target: Element) -> bool:
        for element in reversed(self.stack):
            if element is target:
                return True
            if element.name in _SCOPE:
                return False
        return False

    def _adopt(self, formatting: Element, furthest: Element, at: int) -> None:
        ancestor = self.stack[at - 1]
        bookmark = self.formatting.index(formatting)
        node = last = furthest
        index = self.stack.index(furthest)
        inner = 0
        while True:
            inner += 1
            index -= 1
            node = self.stack[index]
            if node is formatting:
                break
            if inner > 3 and node in self.formatting:
                self.formatting.remove(node)
            if node not in self.formatting:
                del self.stack[index]
                continue
            clone = Element(node.name, dict(node.attrs))
            self.formatting[self.formatting.index(node)] = clone
            self.stack[index] = clone
            node = clone
            if last is furthest:
                bookmark = self.formatting.index(clone) + 1
            node.append(last)
            last = node
        if ancestor.name in _TABLE_CONTEXT:
            table = next(e for e in reversed(self.stack) if e.name == "table")
            parent = table.parent or self.root
            parent.insert(parent.children.index(table), last)
        else:
            ancestor.append(last)
        clone = Element(formatting.name, dict(formatting.attrs))
        clone.children, furthest.children = furthest.children, []
        for child in clone.children:
            if isinstance(child, Element):
                child.parent = clone
        furthest.append(clone)
        old = self.formatting.index(formatting)
        self.formatting.insert(bookmark, clone)
        self.formatting.pop(old if old < bookmark else old + 1)
        self.stack.remove(formatting)
        self.stack.insert(self.stack.index(furthest) + 1, clone)

    # -- start tags ---------------------------------------------------------------------

    def _start(self, name: str, attrs: dict[str, str], *, self_closing: bool) -> None:
        if self.current.foreign:
            if name not in _BREAKOUT and not (name == "font" and attrs.keys() & _FONT_BREAKOUT):
                self._insert(name, attrs, void=self_closing)
                return
            while len(self.stack) > 1 and self.current.foreign:
                self.stack.pop()
        if name in _IGNORED:
            return
        if name in _TABLE_PARTS:
            self._table_start(name, attrs)
            return
        if name == "table" and self.current.name in _TABLE_CONTEXT:
            self._pop_until("table")  # a table straight inside a table closes it
        self._body_start(name, attrs, self_closing)

    def _body_start(self, name: str, attrs: dict[str, str], self_closing: bool) -> None:
        if name == "image":
            name = "img"
        if name in _CLOSES_P:
            self._close_p()
            if name in ("pre", "listing"):
                self.skip_newline = True
            self._insert(name, attrs, void=name == "hr")
        elif name in _HEADINGS:
            self._close_p()
            if self.current.name in _HEADINGS:
                self.stack.pop()
            self._insert(name, attrs)
        elif name in ("li", "dd", "dt"):
            self._list_item(name)
            self._insert(name, attrs)
        elif name in _FORMATTING:
            self._formatting_start(name, attrs)
        elif name in VOID:
            if name not in ("param", "source", "track", "base", "link", "meta"):
                self._reconstruct()
            self._insert(name, attrs, void=True)
        elif name in _MARKER_OPENERS:
            self._reconstruct()
            self._insert(name, attrs)
            self.formatting.append(_MARKER)
        else:
            self._other_start(name, attrs, self_closing)

    def _other_start(self, name: str, attrs: dict[str, str], self_closing: bool) -> None:
        if name == "button" and self._in_scope("button", _SCOPE):
            self._implied_end_tags()
            self._pop_until("button")
        elif name in ("optgroup", "option") and self.current.name == "option":
            self.stack.pop()
        elif name in ("rb", "rtc", "rp", "rt") and self._in_scope("ruby", _SCOPE):
            self._implied_end_tags(keep="rtc" if name in ("rp", "rt") else "")
        if name == "textarea":
            self.skip_newline = True
        elif name not in ("style", "script", "title", "noframes", "template", "noscript"):
            self._reconstruct()
        element = self._insert(name, attrs)
        if self_closing and element.foreign:
            self.stack.pop()

    def _list_item(self, name: str) -> None:
        """An open `<li>` (or `<dd>`/`<dt>`) closes before the next one."""
        same = ("li",) if name == "li" else ("dd", "dt")
        for element in reversed(self.stack):
            if element.name in same:
                self._implied_end_tags(keep=element.name)
                self._pop_until(element.name)
                break
            if element.name in _SPECIAL and element.name not in ("address", "div", "p"):
                break
        self._close_p()

    def _formatting_start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "a":
            for entry in reversed(self.formatting):
                if entry is _MARKER:
                    break
                if entry.name == "a":
                    self._adoption_agency("a")
                    if entry in self.formatting:
                        self.formatting.remove(entry)
                    if entry in self.stack:
                        self.stack.remove(entry)
                    break
        elif name == "nobr" and self._in_scope("nobr", _SCOPE):
            self._adoption_agency("nobr")
        self._reconstruct()
        self._push_formatting(self._insert(name, attrs))

    # -- tables ---------------------------------------------------------------------------

    def _in_table(self) -> bool:
        return self._in_scope("table", _TABLE_SCOPE)

    def _in_cell(self) -> bool:
        for element in reversed(self.stack):
            if element.name in ("td", "th", "caption"):
                return True
            if element.name == "table":
                return False
        return False

    def _close_cell(self) -> None:
        self._implied_end_tags()
        self._pop_until(("td", "th", "caption"))
        self._clear_to_marker()

    def _table_start(self, name: str, attrs: dict[str, str]) -> None:
        if not self._in_table():
            return  # a cell or row outside a table: a browser drops the tag
        if self._in_cell():
            self._close_cell()
        while self.current.name not in _TABLE_CONTEXT | {"colgroup"}:
            self.stack.pop()
        if self.current.name == "colgroup" and name != "col":
            self.stack.pop()
        context = self.current.name
        if name in ("td", "th"):
            if context == "table":
                self._insert("tbody", {})
            if self.current.name != "tr":
                self._insert("tr", {})
            self._insert(name, attrs)
            self.formatting.append(_MARKER)
        elif name == "tr":
            if context == "tr":
                self.stack.pop()
            if self.current.name == "table":
                self._insert("tbody", {})
            self._insert(name, attrs)
        else:
            while self.current.name != "table":
                self.stack.pop()
            if name == "col":
                if self.current.name != "colgroup":
                    self._insert("colgroup", {})
                self._insert(name, attrs, void=True)
            else:
                self._insert(name, attrs)
                if name == "caption":
                    self.formatting.append(_MARKER)

    # -- end tags -------------------------------------------------------------------------

    def _end(self, name: str) -> None:
        if self.current.foreign:
            for element in reversed(self.stack):
                if not element.foreign:
                    break
                if element.name == name:
                    while self.stack.pop() is not element:
                        pass
                    return
        if name in _FORMATTING:
            if not self._adoption_agency(name):
                self._any_other_end(name)
        elif name == "p":
            if not self._in_scope("p", _BUTTON_SCOPE):
                self._insert("p", {})
            self._close_p()
        elif name == "br":
            self.handle_starttag("br", [])  # `</br>` is read as `<br>`
        elif name in ("li", "dd", "dt"):
            if self._in_scope(name, _LIST_SCOPE if name == "li" else _SCOPE):
                self._implied_end_tags(keep=name)
                self._pop_until(name)
        elif name in _HEADINGS:
            if self._in_scope(_HEADINGS, _SCOPE):
                self._implied_end_tags()
                self._pop_until(_HEADINGS)
        elif name in _TABLE_PARTS or name == "table":
            self._table_end(name)
        elif name in _SPECIAL and name not in _IGNORED:
            if self._in_scope(name, _SCOPE):
                self._implied_end_tags()
                self._pop_until(name)
                if name in _MARKER_OPENERS:
                    self._clear_to_marker()
        elif name not in _IGNORED:
            self._any_other_end(name)

    def _any_other_end(self, name: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            element = self.stack[index]
            if element.name == name:
                self._implied_end_tags(keep=name)
                del self.stack[index:]
                return
            if element.name in _SPECIAL:
                return

    def _table_end(self, name: str) -> None:
        if not self._in_scope(name, _TABLE_SCOPE):
            return
        if name in ("td", "th", "caption"):
            self._implied_end_tags()
            self._pop_until(name)
            self._clear_to_marker()
            return
        if self._in_cell():
            self._close_cell()
        if name in ("col", "colgroup"):
            if self.current.name == name:
                self.stack.pop()
            return
        self._pop_until(name)


_FONT_BREAKOUT = frozenset(("color", "face", "size"))


def _attributes(pairs: list[tuple[str, str | None]]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for name, value in pairs:
        attrs.setdefault(name, value or "")
    return attrs


def _fostered(parent: Element, element: Element) -> bool:
    """Whether `element` goes before the table rather than into `parent`, a table part."""
    return parent.name in _TABLE_CONTEXT and element.name not in _IN_TABLE


def _is_text(node: Element | str) -> bool:
    return isinstance(node, str) and not isinstance(node, Comment)


def parse_fragment(html: str) -> Element:
    """A field's HTML as the tree a browser builds from it (a root `html` element)."""
    builder = _TreeBuilder()
    builder.feed(_NEWLINES.sub("\n", html))
    builder.close()
    return builder.root


# -- serializing ----------------------------------------------------------------------------

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "\xa0": "&nbsp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "\xa0": "&nbsp;", '"': "&quot;", "<": "&lt;", ">": "&gt;"}
)
_OPEN, _CLOSE, _TEXT = range(3)


def escape_text(text: str) -> str:
    """Text as a browser writes it into HTML: `&`, `<`, `>` and no-break spaces escaped."""
    return text.translate(_TEXT_ESCAPES)


def escape_attribute(value: str) -> str:
    """An attribute value as the editor's browser writes it (`"`, `<` and `>` too)."""
    return value.translate(_ATTR_ESCAPES)


def start_tag(name: str, attrs: dict[str, str]) -> str:
    """`<name a="v">`, attributes in their order, written as a browser writes them."""
    written = "".join(f' {key}="{escape_attribute(value)}"' for key, value in attrs.items())
    return f"<{name}{written}>"


def serialize(root: Element) -> str:
    """The children of `root` as the browser's `innerHTML` gives them. Iterative, so that no
    nesting depth overflows Python's stack."""
    out: list[str] = []
    pending: list[tuple[int, Element | str]] = [(_TEXT, child) for child in root.children[::-1]]
    while pending:
        kind, node = pending.pop()
        if kind == _CLOSE:
            assert isinstance(node, Element)
            out.append(f"</{node.name}>")
        elif isinstance(node, Comment):
            out.append(f"<!--{node}-->")
        elif isinstance(node, str):
            out.append(node if kind == _OPEN else escape_text(node))  # _OPEN: raw text
        elif node.name != "script":  # Anki's editor drops scripts from a field
            out.append(start_tag(node.name, node.attrs))
            if node.name in VOID and not node.foreign:
                continue
            pending.append((_CLOSE, node))
            child_kind = _OPEN if node.name in _RAW_TEXT else _TEXT
            pending.extend((child_kind, child) for child in node.children[::-1])
    return "".join(out)


def trim_breaks(tex: str) -> str:
    """What Anki's editor keeps of a formula: a `<br>` read as a newline, and no newline at
    either end."""
    return _MATH_BREAK.sub("\n", tex).strip("\n")


def _decorate(html: str) -> str:
    """The editor's first step: math delimiters to `<anki-mathjax>` elements, display math
    first (by the editor's own patterns: a `\\(` in code or in an attribute is taken too)."""
    html = _BLOCK_MATH.sub(lambda m: f"{_BLOCK_OPEN}{trim_breaks(m[1])}</{MATHJAX}>", html)
    return _INLINE_MATH.sub(lambda m: f"<{MATHJAX}>{trim_breaks(m[1])}</{MATHJAX}>", html)


def _undecorated(match: re.Match[str]) -> str:
    """The editor's last step, on its pattern's match: the first `<anki-mathjax>` in it back
    to delimiters around its content."""
    attrs, content = match[1], match[2]
    if "<" in content or attrs not in ("", ' block="true"'):
        element = _first_mathjax(parse_fragment(match[0]))
        attrs = "" if element.attrs.get("block", "false") == "false" else ' block="true"'
        content = serialize(element)
    tex = trim_breaks(content)
    return f"\\[{tex}\\]" if attrs else f"\\({tex}\\)"


def _first_mathjax(root: Element) -> Element:
    pending: list[Element | str] = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, Element):
            if node.name == MATHJAX:
                return node
            pending.extend(node.children[::-1])
    raise AssertionError("the pattern matched an <anki-mathjax> start tag")


def _media_paths(html: str, transform: Callable[[str], str]) -> str:
    """Anki's `transform_html_paths`: the file an `<img>` (`<audio>`, ...) names, transformed
    wherever it stands in that tag. Anki's pattern also reads a tag whose quoted values hold
    `<` or `>`; such a tag is left alone here (the pattern would backtrack exponentially)."""

    def one_tag(tag: re.Match[str]) -> str:
        found = _MEDIA_SOURCE.match(tag[0])
        if found is None:
            return tag[0]
        name = found[1] or found[2] or found[3]
        if _REMOTE.match(name) or '"' in name:  # Anki would add quotes at every load
            return tag[0]
        return tag[0].replace(name, transform(name))

    return _MEDIA_TAG.sub(one_tag, html)


def _encode_path(name: str) -> str:
    return "".join(quote(c, safe="") if c in _PATH_QUOTED or c < " " else c for c in name)


def _decode_path(name: str) -> str:
    return unquote(name, errors="replace")


def _one_load(html: str) -> str:
    """One load of the field by the editor, and its save."""
    shown = _decorate(_media_paths(_NEWLINES.sub("\n", html), _encode_path))
    saved = _MATHJAX_ELEMENT.sub(_undecorated, serialize(parse_fragment(shown)))
    if saved in ("<br>", "<div><br></div>"):  # what an emptied field holds
        return ""
    return _media_paths(saved, _decode_path).replace("\0", "")


def anki_form(html: str) -> str:
    """`html` as Anki's editor saves it once the note is opened; idempotent. The editor loads
    what it saved until nothing changes; one pass does that but for a few misnestings whose
    tree a second load builds differently, so a pass is repeated (a few times at most)."""
    for _ in range(_MAX_PASSES):
        again = _one_load(html)
        if again == html:
            break
        html = again
    return html
