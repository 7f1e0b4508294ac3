"""A field's HTML as Anki's editor keeps it (`anki_form`): what the real editor stored, the
browser's parse and serialization case by case, and linear time on hostile fields."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notecards.render.anki_form import anki_form, escape_attribute, escape_text, start_tag
from tests.helpers.limits import cpu_seconds_at_most
from tests.helpers.paths import SHARED

# Real recordings from Anki 26.9's editor (../shared/ankiconnect/README.md, "What Anki's
# editor does to a field"); a fresh clone has none.
RECORDINGS = SHARED / "ankiconnect" / "editor-edits.jsonl"
NO_RECORDINGS = pytest.param(
    None,
    marks=pytest.mark.skip(reason=f"Anki's editor recordings live in {RECORDINGS} (absent)"),
)
EDITS = (
    [json.loads(line) for line in RECORDINGS.read_text(encoding="utf-8").splitlines() if line]
    if RECORDINGS.is_file()
    else []
)


def edit_id(edit: dict | None) -> str:
    return f"{edit['kind']}-{edit['note_id']}-{edit['field']}" if edit else "none"


@pytest.mark.parametrize("edit", EDITS or [NO_RECORDINGS], ids=edit_id)
def test_what_the_editor_stored_is_kept(edit: dict) -> None:
    assert anki_form(edit["html_after"]) == edit["html_after"]


OPENED_ONLY = [edit for edit in EDITS if edit["kind"].startswith("no_change_")]


@pytest.mark.parametrize("edit", OPENED_ONLY or [NO_RECORDINGS], ids=edit_id)
def test_opening_a_note_gives_what_the_editor_stored(edit: dict) -> None:
    assert anki_form(edit["html_before"]) == edit["html_after"]


# what notecards (or a person) wrote -> what the editor keeps
FORMS = [
    ("a<br />b", "a<br>b"),
    ("<hr />", "<hr>"),
    ('<img src="a.png" />', '<img src="a.png">'),
    ("\\[\nx\n\\]", "\\[x\\]"),  # no newline next to display math's delimiters
    ("say &quot;hi&quot; &amp; go", 'say "hi" &amp; go'),
    ('<p title="a&quot;b&#39;c">&#39;</p>', "<p title=\"a&quot;b'c\">'</p>"),
    ("<p>a", "<p>a</p>"),
    ("<p>a<p>b", "<p>a</p><p>b</p>"),
    ("<li>a<li>b", "<li>a</li><li>b</li>"),
    ("<b>a<i>b</b>c</i>", "<b>a<i>b</i></b><i>c</i>"),  # the adoption agency
    ("<p><b>a</p>b", "<p><b>a</b></p><b>b</b>"),  # a formatting element reopened
    ("<table><tr><td>x</td></tr></table>", "<table><tbody><tr><td>x</td></tr></tbody></table>"),
    ("<table><td>x</table>", "<table><tbody><tr><td>x</td></tr></tbody></table>"),
    (
        "<table><b>x</b><tr><td>y</table>",
        "<b>x</b><table><tbody><tr><td>y</td></tr></tbody></table>",
    ),
    ("\\(a<br>b\\)", "\\(a\nb\\)"),  # a <br> inside math is a newline
    ("\\[a<br />b\\]", "\\[a\nb\\]"),
    ("\\(\na<br>\\)", "\\(a\\)"),
    ('<anki-mathjax block="true">x</anki-mathjax>', "\\[x\\]"),
    ("<anki-mathjax>a<b>b</b></anki-mathjax>", "\\(a<b>b</b>\\)"),
    (  # the editor's pattern takes this element for math, but it is no <anki-mathjax>
        "<anki-mathjax-x><xmp></anki-mathjax></xmp>",
        "<anki-mathjax-x><xmp></anki-mathjax></xmp></anki-mathjax-x>",
    ),
    ("<pre>\n\nx</pre>", "<pre>x</pre>"),  # each load drops a newline after <pre>
    ("<script>x</script>y", "y"),  # the editor drops scripts
    ("<br>", ""),  # what an emptied field holds
    ("<div><br></div>", ""),
    ("a\xa0b &nbsp;", "a&nbsp;b &nbsp;"),
    ("a\r\nb\rc", "a\nb\nc"),
    ("<P CLASS=x ID=a id=b>y</P>", '<p class="x" id="a">y</p>'),  # the first of a name wins
    ("<input type=checkbox checked>", '<input type="checkbox" checked="">'),
]


@pytest.mark.parametrize(("html", "kept"), FORMS)
def test_the_editor_keeps(html: str, kept: str) -> None:
    assert anki_form(html) == kept
    assert anki_form(kept) == kept


# Anki percent-encodes a media file's name for the editor and decodes it when it saves: a
# name that was written encoded comes back decoded, a `%` that starts no escape stays.
MEDIA = [
    ('<img src="a b.png">', '<img src="a b.png">'),
    ('<img src="a%20b.png">', '<img src="a b.png">'),
    ('<img src="50%.png">', '<img src="50%.png">'),
    ('<img src="100% sure.png">', '<img src="100% sure.png">'),
    ("<img src=e%25f.png>", '<img src="e%f.png">'),
    ("<img src='c d.png'>", '<img src="c d.png">'),
    ('<img src="http://x/a%20b.png">', '<img src="http://x/a%20b.png">'),  # remote: as is
    ('<audio src="s%20t.mp3"></audio>', '<audio src="s t.mp3"></audio>'),
]


@pytest.mark.parametrize(("html", "kept"), MEDIA)
def test_media_names_as_anki_saves_them(html: str, kept: str) -> None:
    assert anki_form(html) == kept


# The browser's reading where a simpler parser goes wrong.
BROWSER = [
    ("<textarea><b></textarea>", "<textarea>&lt;b&gt;</textarea>"),  # text, not markup
    ("<xmp><b>&amp;</xmp>", "<xmp><b>&amp;</xmp>"),  # raw text, written raw
    ("<noscript><b></noscript>", "<noscript><b></noscript>"),  # the editor runs scripts
    (
        '<svg viewBox="0 0 1 1"><clipPath/></svg>',
        '<svg viewBox="0 0 1 1"><clipPath></clipPath></svg>',
    ),
    (
        "<svg><foreignObject><p>x</p></foreignObject></svg>",
        "<svg><foreignObject><p>x</p></foreignObject></svg>",
    ),
    ("<svg><style>a<b></style></svg>", "<svg><style>a</style></svg><b></b>"),  # <b> leaves SVG
    ('<a href="?a=1&copy=2">x</a>', '<a href="?a=1&amp;copy=2">x</a>'),  # no &copy; there
    ("&copy 1 &notin;", "© 1 ∉"),
    ("<?php echo 1; ?>", "<!--?php echo 1; ?-->"),  # a comment before Chromium 150
    ('<p title="<?x">a<?y', '<p title="&lt;?x">a<!--?y--></p>'),
    ("<!-- <?x --><textarea><?z</textarea>", "<!-- <?x --><textarea>&lt;?z</textarea>"),
    ("a<b", "a"),  # a tag the field ends in is dropped
    ("<!-- x --!>y", "<!-- x -->y"),
    ("<table><x><table>", "<x></x><table></table><table></table>"),
    ("<template><td>x</td></template>", "<template><td>x</td></template>"),
    ("<svg><![CDATA[<?x]]></svg>", "<svg>&lt;?x</svg>"),  # CDATA is text in SVG
    ("<p <?x>y<a<?z>", '<p <?x="">y<a<?z></a<?z></p>'),  # names as written
]


@pytest.mark.parametrize(("html", "kept"), BROWSER)
def test_the_browser_reads(html: str, kept: str) -> None:
    assert anki_form(html) == kept


def test_nesting_stops_at_blinks_depth() -> None:
    """Past 512 elements deep an element (or comment) is attached beside its parent; text
    stays in the element it was written in."""
    html = "<div>" * 600 + "x<!--c--></div></div>y"
    deep = "<div></div>" * 86 + "<div>y</div><div></div><div>x</div><!--c-->"
    assert anki_form(html) == "<div>" * 511 + deep + "</div>" * 511


def test_escapes_as_the_browser_writes() -> None:
    assert escape_text('a&b<c>d\xa0"') == 'a&amp;b&lt;c&gt;d&nbsp;"'
    assert escape_attribute('a&b<c>d\xa0"') == "a&amp;b&lt;c&gt;d&nbsp;&quot;"
    assert start_tag("a", {"href": "x?y=1&z", "title": '"'}) == (
        '<a href="x?y=1&amp;z" title="&quot;">'
    )


# The escapes as one table each, read character by character (what the replaces must match).
TEXT_TABLE = str.maketrans({"&": "&amp;", "\xa0": "&nbsp;", "<": "&lt;", ">": "&gt;"})
ATTRIBUTE_TABLE = str.maketrans({**{chr(k): v for k, v in TEXT_TABLE.items()}, '"': "&quot;"})


@given(st.text(alphabet=st.sampled_from('&<>"\xa0;a#l t\n')))
def test_escapes_match_a_table_read_character_by_character(text: str) -> None:
    """Each escaped character replaced once, whatever stands next to it (`&lt;` is text)."""
    assert escape_text(text) == text.translate(TEXT_TABLE)
    assert escape_attribute(text) == text.translate(ATTRIBUTE_TABLE)


def repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit))


# A field of one thing, repeated: each used to cost, or could cost, time quadratic in it.
HOSTILE = {
    "<b>": repeat("<b>"),
    "<div>": repeat("<div>"),
    "<ul>": repeat("<ul>"),
    "<p>": repeat("<p>"),
    "<table>": repeat("<table>"),
    "<table><td>": repeat("<table><td>"),
    "<b><i></b></i>": repeat("<b><i></b></i>"),
    "<b><p>": repeat("<b><p>"),
    "<a>": repeat("<a>"),
    "<!--": repeat("<!--"),
    "<?": repeat("<?"),
    "\\(": repeat("\\("),  # math openers without a closer
    "\\[": repeat("\\["),
    "<anki-mathjax> in <xmp>": lambda size: "<xmp>" + repeat("<anki-mathjax>")(size),
}
SIZE = 10_000


def cpu_seconds(field: str) -> float:
    """The best of three runs, each after a collection: garbage left by the run before (or
    another test) only adds time, and not in proportion to the field."""
    best = float("inf")
    for _ in range(3):
        gc.collect()
        start = time.process_time()
        anki_form(field)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_fields_take_linear_time(name: str) -> None:
    """Twice the field, about twice the time (four times where it is quadratic)."""
    with cpu_seconds_at_most(30):
        once = cpu_seconds(HOSTILE[name](SIZE))
        twice = cpu_seconds(HOSTILE[name](2 * SIZE))
    assert twice < 3.5 * max(once, 0.02), (name, once, twice)
