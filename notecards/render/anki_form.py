"""A field's HTML in the form Anki's editor keeps it.

Opening a note in Anki's editor (26.x) rewrites and saves every field that is not already in
that form: the editor turns `\\[..\\]` and `\\(..\\)` into `<anki-mathjax>` elements (dropping
the newlines next to the delimiters and reading a `<br>` inside as a newline), lets the browser
parse the field as a fragment of a body, and stores what the browser serializes (`innerHTML`),
the elements turned back into delimiters. So `<br />` becomes `<br>`, `&quot;` in text `"`, an
unclosed `<p>` is closed, `<b>a<i>b</b>c</i>` is untangled. `anki_form` does the same, so that
the sync can compare what Anki holds with what an older release pushed, and the renderer
writes what Anki keeps.

The tree is justhtml's: the HTML standard's tree construction, checked against the web
platform's tests, in linear time however hostile the nesting. Done here is what the editor's
Chromium does besides: it writes `innerHTML` (the serializer below), it reads `<?x>` as the
comment `?x` (processing instructions came to HTML after it, in Chromium 150), and it nests
elements 512 deep at most (Blink's limit: an element or comment deeper than that is attached
beside its parent; text stays where it is).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from urllib.parse import quote, unquote

from justhtml import Comment, DocumentFragment, Element, JustHTML, Node, Template, Text

_NEWLINES = re.compile(r"\r\n?")
# The editor's patterns, `\\[(.*?)\\]`, `\\((.*?)\\)` and
# `<anki-mathjax\b([^>]*)>(.*?)</anki-mathjax>` (dot matching newlines), each as its opener and
# its closer: see `_sub_lazily`. (Serialized HTML has a `>` after each `<`: `[^>]*` stops.)
_BLOCK_MATH = (re.compile(r"\\\["), "\\]")
_INLINE_MATH = (re.compile(r"\\\("), "\\)")
MATHJAX = "anki-mathjax"
_MATHJAX_ELEMENT = (re.compile(rf"<{MATHJAX}\b[^>]*>"), f"</{MATHJAX}>")
_BLOCK_OPEN = f'<{MATHJAX} block="true">'
_MATH_BREAK = re.compile(r"<br *\/?>")
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
# Elements whose text is written unescaped (<noscript> too: the editor runs scripts).
_RAW_TEXT = _names("style script xmp iframe noembed noframes plaintext noscript")
# Elements whose first newline the parser drops; the editor loads what it saved until nothing
# changes, so none of their leading newlines is left.
_LEADING_NEWLINE = frozenset(("pre", "listing", "textarea"))
_MAX_DEPTH = 512
_MAX_PASSES = 4

# `&` first: the others' replacements hold one.
_ATTR_ESCAPES = (("&", "&amp;"), ("\xa0", "&nbsp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;"))


def parse_fragment(html: str) -> DocumentFragment:
    """A field's HTML as the tree the editor's browser builds from it (a body's fragment)."""
    marker = _unused_character(html) if "<?" in html else None
    if marker is None:
        return JustHTML(html, fragment=True, sanitize=False).root
    # `<!` opens the same bogus comment as `<?` did before processing instructions; the marker
    # tells a rewritten `<?` from the field's own `<!` wherever it ends up (text, attributes).
    root = JustHTML(html.replace("<?", f"<!{marker}?"), fragment=True, sanitize=False).root
    _restore(root, marker)
    return root


def _unused_character(html: str) -> str | None:
    """A private-use (or later) character the field does not hold. There is one unless the
    field holds over a million distinct characters; its processing instructions are dropped
    then (the serializer writes none)."""
    used = set(html)
    return next((chr(c) for c in range(0xE000, 0x110000) if chr(c) not in used), None)


def _restore(root: DocumentFragment, marker: str) -> None:
    """Each rewritten `<?` as it was: the `?` opening a comment, else `<?` itself."""
    rewritten = f"<!{marker}"
    for node in _descendants(root):
        if isinstance(node, Comment):
            node.data = node.data.removeprefix(marker).replace(rewritten, "<")
        elif isinstance(node, Text):
            node.data = node.data.replace(rewritten, "<")
        elif isinstance(node, Element):
            node.name = node.name.replace(rewritten, "<")
            node.attrs = {
                key.replace(rewritten, "<"): (value or "").replace(rewritten, "<")
                for key, value in node.attrs.items()
            }


def _children(node: Node | Text) -> list[Node | Text]:
    if isinstance(node, Template) and node.template_content is not None:
        return node.template_content.children or []
    return node.children if isinstance(node, Node) and node.children else []


def _descendants(root: Node) -> Iterator[Node | Text]:
    pending = _children(root)[::-1]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(_children(node)[::-1])


# -- serializing ----------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """Text as a browser writes it into HTML: `&`, `<`, `>` and no-break spaces escaped.
    A search and a replace per character (in C) where `str.translate` with a table of
    strings looks up every character: rendering escapes each text token, most with nothing
    to escape (a tenth of a field's render went to `translate`)."""
    if "&" in text:  # first: the others' replacements hold one
        text = text.replace("&", "&amp;")
    if "\xa0" in text:
        text = text.replace("\xa0", "&nbsp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attribute(value: str) -> str:
    """An attribute value as the editor's browser writes it (`"`, `<` and `>` too)."""
    for character, escaped in _ATTR_ESCAPES:
        if character in value:
            value = value.replace(character, escaped)
    return value


def start_tag(name: str, attrs: dict[str, str]) -> str:
    """`<name a="v">`, attributes in their order, written as a browser writes them."""
    written = "".join(f' {key}="{escape_attribute(value)}"' for key, value in attrs.items())
    return f"<{name}{written}>"


def serialize(root: Node) -> str:
    """The children of `root` as the browser's `innerHTML` gives them; an element or comment
    nested deeper than 512 is written after its parent, where Blink attaches it. Iterative, so
    that no nesting depth overflows Python's stack."""
    out: list[str] = []
    # (node or end tag, depth, whether its text is raw)
    pending: list[tuple[Node | Text | str, int, bool]] = [
        (child, 1, False) for child in _children(root)[::-1]
    ]
    while pending:
        node, depth, raw = pending.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Text):
            out.append(node.data if raw else escape_text(node.data))
        elif isinstance(node, Comment):
            out.append(f"<!--{node.data}-->")
        elif isinstance(node, Element) and node.name != "script":  # the editor drops scripts
            out.append(start_tag(node.name, {k: v or "" for k, v in node.attrs.items()}))
            html = node.namespace == "html"
            if html and node.name in VOID:
                continue
            children = _children(node)
            if html and node.name in _LEADING_NEWLINE:
                children = _without_leading_newlines(children)
            if depth >= _MAX_DEPTH:
                pending.extend((c, depth, False) for c in children[::-1] if not isinstance(c, Text))
                children = [c for c in children if isinstance(c, Text)]
            pending.append((f"</{node.name}>", depth, False))
            inner = html and node.name in _RAW_TEXT
            pending.extend((c, depth + 1, inner) for c in children[::-1])
    return "".join(out)


def _without_leading_newlines(children: list[Node | Text]) -> list[Node | Text]:
    if not children or not isinstance(children[0], Text):
        return children
    text = children[0].data.lstrip("\n")
    return ([Text(text)] if text else []) + children[1:]


def trim_breaks(tex: str) -> str:
    """What Anki's editor keeps of a formula: a `<br>` read as a newline, and no newline at
    either end."""
    return _MATH_BREAK.sub("\n", tex).strip("\n")


def _sub_lazily(
    html: str, pattern: tuple[re.Pattern[str], str], replace: Callable[[str, str], str]
) -> str:
    """`re.sub` of `opener(.*?)closer` (dot matching newlines), `replace` given the opener's
    text and what stands between, in linear time: where no closer follows an opener, none
    follows a later one, so the scan stops there (`re` would scan to the end from each)."""
    opener, closer = pattern
    parts: list[str] = []
    pos = 0
    while (found := opener.search(html, pos)) and (end := html.find(closer, found.end())) >= 0:
        parts += (html[pos : found.start()], replace(found[0], html[found.end() : end]))
        pos = end + len(closer)
    parts.append(html[pos:])
    return "".join(parts)


def _decorate(html: str) -> str:
    """The editor's first step: math delimiters to `<anki-mathjax>` elements, display math
    first (by the editor's own patterns: a `\\(` in code or in an attribute is taken too)."""
    html = _sub_lazily(
        html, _BLOCK_MATH, lambda _, tex: f"{_BLOCK_OPEN}{trim_breaks(tex)}</{MATHJAX}>"
    )
    return _sub_lazily(
        html, _INLINE_MATH, lambda _, tex: f"<{MATHJAX}>{trim_breaks(tex)}</{MATHJAX}>"
    )


def _undecorated(start: str, content: str) -> str:
    """The editor's last step, on its pattern's match: the first `<anki-mathjax>` in it back
    to delimiters around its content (a match that opens none, `<anki-mathjax-x>`, stays)."""
    attrs = start[len(MATHJAX) + 1 : -1]
    if "<" in content or attrs not in ("", ' block="true"'):
        match = f"{start}{content}</{MATHJAX}>"
        element = next(
            (
                node
                for node in _descendants(parse_fragment(match))
                if isinstance(node, Element) and node.name == MATHJAX
            ),
            None,
        )
        if element is None:
            return match
        attrs = "" if element.attrs.get("block", "false") == "false" else ' block="true"'
        content = serialize(element)
    tex = trim_breaks(content)
    return f"\\[{tex}\\]" if attrs else f"\\({tex}\\)"


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
    saved = _sub_lazily(serialize(parse_fragment(shown)), _MATHJAX_ELEMENT, _undecorated)
    if saved in ("<br>", "<div><br></div>"):  # what an emptied field holds
        return ""
    return _media_paths(saved, _decode_path).replace("\0", "")


def math_across_elements(html: str) -> bool:
    """Whether the editor's math patterns (display first, as `_decorate`) take markup into a
    formula: a `\\[` or `\\(` of text (code about TeX, say) paired with a closer in another
    element, a later formula's. Anki then shows the text between them as math: the card is
    not what its markdown says. (A formula the renderer writes holds no `<`: its TeX is
    escaped.)"""
    markup: list[bool] = []

    def take(_: str, tex: str) -> str:
        markup.append("<" in tex)
        return ""

    _sub_lazily(_sub_lazily(html, _BLOCK_MATH, take), _INLINE_MATH, take)
    return any(markup)


@lru_cache(maxsize=1024)  # a sync compares the same fields both ways, and converts them
def anki_form(html: str) -> str:
    """`html` as Anki's editor saves it once the note is opened; idempotent. The editor loads
    what it saved until nothing changes; one pass does that but for a few misnestings whose
    tree a second load builds differently, so a pass is repeated (a few times at most). A
    `<plaintext>` never settles (each load reads its end tag as text): the fourth load's."""
    for _ in range(_MAX_PASSES):
        again = _one_load(html)
        if again == html:
            break
        html = again
    return html
