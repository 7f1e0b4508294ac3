"""Anki's HTML back to markdown, one table per rule: the markdown each HTML gives, and that
this markdown renders back to the HTML (so each expected markdown is an inverse, not a guess).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notecards.config import VaultConfig
from notecards.pull.html_to_markdown import html_to_markdown, vault_html_to_markdown
from notecards.render import Renderer
from notecards.render.anki_form import anki_form

VAULT = "My Vault"
OPEN = "obsidian://open?vault=My%20Vault&amp;file="


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    root = tmp_path_factory.mktemp("vault")
    for name in ("LLM.md", "ml/loss function.md", "img.png", "ml/plot.png", "sounds/test.mp3"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    return Renderer(VaultConfig(vault_name=VAULT, curly_cloze=True), root)


def render(renderer: Renderer, markdown: str, *, cloze: bool = False) -> str:
    return renderer.render_field(markdown, cloze=cloze, path="deck.md", line=1).html


def check(renderer: Renderer, html: str, expected: str, **options: bool) -> None:
    converted = html_to_markdown(html, vault_name=VAULT, **options)
    assert converted == expected
    cloze = bool(options)
    assert render(renderer, converted, cloze=cloze) == anki_form(html)


MATH = [
    ("inline", "Inline \\(x = 5\\)", "Inline $x = 5$"),
    ("entities decoded, TeX kept", "\\(a&lt;b \\&amp; c&gt;d\\)", "$a<b \\& c>d$"),
    ("TeX untouched", "\\(\\{x_1 * y_2\\} \\\\ z\\)", "$\\{x_1 * y_2\\} \\\\ z$"),
    ("display inside text", "Displayed \\[z = 10\\]", "Displayed $$z = 10$$"),
    # `$$1$1$$$` would close at the first `$$`: the escaped delimiters instead (the `[`
    # escaped too: a `](...)` after it would make a link of it)
    ("display ending in a dollar", "b\\[1$1$\\]", "b\\\\\\[1$1$\\\\]"),
    ("escaped delimiters before a link's end", "\\[{\\$\\]\\(]()\\)", "\\\\\\[{\\\\\\$\\\\]$]()$"),
    (
        "display on a line of a paragraph",
        "a<br>\n\\[x\\]<br>\nb",
        "a\n$$\nx\n$$\nb",
    ),
    (
        "display as its own block",
        "<p>para</p>\n\\[\\pi_\\theta(Y | X)\\]\n<p>after</p>",
        "para\n\n$$\n\\pi_\\theta(Y | X)\n$$\n\nafter",
    ),
    ("display alone", "\\[x\\]", "$$\nx\n$$"),
    # an empty formula is text markdown writes in escaped delimiters; it was left out
    ("an empty display after one", "y\\[ \\]\\[\\]", "y$$ $$\\\\\\[\\\\]"),
    ("a formula after a digit is no `$` math: its text", "5\\(x\\)", "5\\\\(x\\\\)"),
    ("a no-break space the editor typed after it", "\\(x\\)&nbsp;of n", "$x$&nbsp;of n"),
    (
        "in a list item, the item's indent taken off",
        "<ul>\n<li>\n\\[  a\n  \\]\n</li>\n</ul>",
        "- $$\n  a\n  $$",
    ),
    # A block's line that `$$` begins and `$$` ends is a `$$` block (dollarmath's), whatever
    # closes the formula in between: so the line never ends in `$$` there
    ("display, a code span, `$$` of text", "\\[x\\]<code> </code>$$", "$$x$$` `$\\$"),
    ("display, then a dollar", "\\[x\\]$", "$$x$$\\$"),
    ("in a list item", "<ul>\n<li>\\[x\\] $$</li>\n</ul>", "- $$x$$ $\\$"),
    ("in a quote", "<blockquote>\n<p>\\[x\\] $$</p>\n</blockquote>", "> $$x$$ $\\$"),
    ("a second display ending the line", "\\[x\\] a \\[y\\]", "$$x$$ a \\\\\\[y\\\\]"),
    ("inline math ending in `\\$` there", "\\[x\\] \\(a\\$\\)", "$$x$$ \\\\(a\\\\$\\\\)"),
    ("not on a later line", "a<br>\n\\[x\\]$", "a\n$$x$$$"),
    # and one over lines: a later line ending in `$$`, blank lines between, would close it
    (
        "display over lines opening a paragraph",
        "<p>\\[a\nb\\] c</p>\n\\[y\\]",
        "\\\\\\[a&#10;b\\\\] c\n\n$$\ny\n$$",
    ),
]


@pytest.mark.parametrize(("what", "html", "expected"), MATH, ids=[m[0] for m in MATH])
def test_math(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


LINKS = [
    ("a note", f'<a href="{OPEN}LLM">LLM</a>', "[[LLM]]"),
    (
        "in a folder, by its name",
        f'<a href="{OPEN}ml%2Floss%20function">loss function</a>',
        "[[loss function]]",
    ),
    (
        "an alias",
        f'<a href="{OPEN}ml%2Floss%20function">the loss</a>',
        "[[loss function|the loss]]",
    ),
    ("a heading", f'<a href="{OPEN}LLM%23Training">LLM &gt; Training</a>', "[[LLM#Training]]"),
    ("a heading and alias", f'<a href="{OPEN}LLM%23Training">train</a>', "[[LLM#Training|train]]"),
    ("a missing note", f'<a href="{OPEN}Nowhere">Nowhere</a>', "[[Nowhere]]"),
    ("the note's own heading", f'<a href="{OPEN}deck%23Intro">Intro</a>', "[[deck#Intro|Intro]]"),
    (
        "another vault's link",
        '<a href="obsidian://open?vault=Other&amp;file=LLM">LLM</a>',
        "[LLM](obsidian://open?vault=Other&file=LLM)",
    ),
    (
        "a web link",
        '<a href="http://a.b/c" title="t">the *c*</a>',
        '[the \\*c\\*](http://a.b/c "t")',
    ),
    ("an autolink", '<a href="http://a.b">http://a.b</a>', "<http://a.b>"),
    ("a link with emphasis", '<a href="http://a.b"><em>x</em></a>', "[*x*](http://a.b)"),
    (
        "a demo link",
        "Run <code>notecards demo dpo</code>",
        "Run [notecards demo dpo](notecards://demo/dpo)",
    ),
    ("a command of no demo: code", "<code>notecards demo nope</code>", "`notecards demo nope`"),
]


@pytest.mark.parametrize(("what", "html", "expected"), LINKS, ids=[m[0] for m in LINKS])
def test_links(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


def test_wikilinks_of_a_vault_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "LLM.md").write_text("x")
    config = VaultConfig(vault_name="Big", vault_folder="cards/ml")
    renderer = Renderer(config, tmp_path)
    html = renderer.render_field("[[LLM]] [[LLM#H|h]]", cloze=False, path="d.md", line=1).html
    assert "file=cards%2Fml%2FLLM" in html
    converted = html_to_markdown(html, vault_name="Big", vault_folder="cards/ml")
    assert converted == "[[LLM]] [[LLM#H|h]]"
    # A note outside the folder is not this vault's wikilink.
    assert html_to_markdown(html, vault_name="Big", vault_folder="notes").startswith("[LLM](")


EMBEDS = [
    ("an image", '<img src="img.png">', "![[img.png]]"),
    ("its width", '<img src="img.png" width="200">', "![[img.png|200]]"),
    ("width and height", '<img src="plot.png" width="120" height="80">', "![[plot.png|120x80]]"),
    ("an alt", '<img src="img.png" alt="a cat">', "![[img.png|a cat]]"),
    ("an empty alt: a markdown image", '<img src="img.png" alt="">', "![](img.png)"),
    ("an alt that reads as a size", '<img src="img.png" alt="200">', "![200](img.png)"),
    (
        "a remote image",
        '<img src="http://meow.in/meow.png" alt="alt-text">',
        "![alt-text](http://meow.in/meow.png)",
    ),
    ("a title", '<img src="img.png" alt="a" title="t">', '![a](img.png "t")'),
    (
        "a pasted image's style kept",
        '<img src="img.png" style="width: 10px;">',
        '<img src="img.png" style="width: 10px;">',
    ),
    ("a sound", "music<br>\n[sound:test.mp3]", "music\n![[test.mp3]]"),
    ("a sound tag of no sound: text", "[sound:x.txt]", "\\[sound:x.txt]"),
]


@pytest.mark.parametrize(("what", "html", "expected"), EMBEDS, ids=[m[0] for m in EMBEDS])
def test_embeds(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


PYTHON = (
    '<pre style="background: #f8f8f8; padding: 0.5em; overflow-x: auto;">'
    '<code class="language-python">x <span style="color: #666">=</span> '
    '<span style="color: #666">1</span>\n</code></pre>'
)
CODE = [
    ("highlighted: a fence with its language", PYTHON, "```python\nx = 1\n```"),
    ("plain", "<pre><code>&lt;b&gt; &amp; $x$\n</code></pre>", "```\n<b> & $x$\n```"),
    (
        "a language the highlighter lacks",
        '<pre><code class="language-nosuchlang">a\n</code></pre>',
        "```nosuchlang\na\n```",
    ),
    ("a fence inside", "<pre><code>```\n</code></pre>", "````\n```\n````"),
    (
        "typed in Anki, not coloured: stays HTML",
        PYTHON.replace("x <span", "y # <span"),
        PYTHON.replace("x <span", "y # <span"),
    ),
    ("no newline at the field's end: a fence left open", "<pre><code>x</code></pre>", "```\nx"),
    (
        "a language with a backtick: a tilde fence",
        '<pre><code class="language-`a`">x\n</code></pre>',
        "~~~`a`\nx\n~~~",
    ),
    (
        "a language with a quote, written &quot; in its attribute",
        '<pre><code class="language-a&quot;b">x\n</code></pre>',
        '```a"b\nx\n```',
    ),
    ("inline", "a <code>x*y</code>", "a `x*y`"),
    ("inline with backticks", "<code>a`b</code>", "``a`b``"),
    ("inline with a backtick at its edge", "<code>`a</code>", "`` `a ``"),
    ("inline, spaces kept", "<code> x </code>", "`  x  `"),
    # `a``b` would be one span: an empty comment between them renders to nothing
    ("two spans side by side", "<code>a</code><code>b</code>", "`a`%%%%`b`"),
]


@pytest.mark.parametrize(("what", "html", "expected"), CODE, ids=[m[0] for m in CODE])
def test_code(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


def callout(kind: str, rgb: str) -> str:
    style = (
        f"border-left: 4px solid rgb({rgb}); background: rgba({rgb}, 0.1); "
        "padding: 0.4em 0.8em; margin: 0.6em 0; border-radius: 4px;"
    )
    return f'<div class="callout callout-{kind}" data-callout="{kind}" style="{style}">\n'


TITLE = '<div class="callout-title" style="font-weight: bold;">'
BLOCKS = [
    ("heading", "<h1>Title</h1>\n<p>para</p>", "# Title\n\npara"),
    # a `#` heading holds one line: setext's underline takes math that spans lines
    ("heading of math on two lines", "<h2>\\(a\nb\\)</h2>", "$a\nb$\n---"),
    ("a heading of two lines", "<h2>a<br>\nb</h2>", "a\nb\n---"),
    ("a heading's closing hashes kept", "<h3>C #</h3>", "### C \\#"),
    ("rule", "<p>a</p>\n<hr>\n<p>b</p>", "a\n\n---\n\nb"),
    ("quote", "<blockquote>\n<p>q<br>\nr</p>\n</blockquote>", "> q\n> r"),
    (
        "callout",
        callout("warning", "236, 117, 0") + TITLE + "Careful</div>\n<p>body <em>x</em></p>\n</div>",
        "> [!warning] Careful\n> body *x*",
    ),
    (
        "callout with its default title",
        callout("tip", "0, 191, 188") + TITLE + "Tip</div>\n<ul>\n<li>a</li>\n</ul>\n</div>",
        "> [!tip]\n>\n> - a",
    ),
    (
        "a div that is no callout",
        '<div class="x">\n<p>a</p>\n</div>',
        '<div class="x">\n<p>a</p>\n</div>',
    ),
    ("a tag alone on its line: an HTML block", "<p>a</p>\n<br>\n<p>b</p>", "a\n\n<br>\n\nb"),
    (
        "an HTML block's attributes in their order (bs4 would sort them)",
        '<p>a</p>\n<p style="color: red" class="x">b</p>',
        'a\n\n<p style="color: red" class="x">b</p>',
    ),
    (
        # markdown ended the HTML block with a newline, the browser closed `<http:>` at the
        # item's end: written open, as the autolink inside an HTML block left it
        "an element the item's end closed",
        '<ul>\n<li>\n<div>\nx\n</div>\n<http: example.com="">\n</http:></li>\n</ul>\n<p>b</p>',
        '- <div>\n  x\n  </div>\n  <http: example.com="">\n\nb',
    ),
    (
        "display math alone after an HTML block: a block of its own",
        "<div>\nx\n</div>\n\\[=+\\]\n<p>after</p>",
        "<div>\nx\n</div>\n\n$$\n=+\n$$\n\nafter",
    ),
    (
        "a fence left open at the end of a quote",
        "<blockquote>\n<p>a</p>\n<pre><code>x</code></pre>\n</blockquote>",
        "> a\n>\n> ```\n> x",
    ),
    (
        "an element the quote's end closed",
        '<blockquote>\n<div>\nx\n</div>\n<http: e="">\n</http:></blockquote>\n<p>b</p>',
        '> <div>\n> x\n> </div>\n> <http: e="">\n\nb',
    ),
    (
        "HTML blocks side by side, and text after one",
        "<div>a</div><div>b</div>tail",
        "<div>a</div><div>b</div>tail",
    ),
    (
        "table",
        '<table>\n<thead>\n<tr>\n<th style="text-align:left">a</th>\n<th>b</th>\n</tr>\n'
        '</thead>\n<tbody>\n<tr>\n<td style="text-align:left">x|y</td>\n'
        f'<td><a href="{OPEN}LLM">al</a></td>\n</tr>\n</tbody>\n</table>',
        "| a | b |\n| :--- | --- |\n| x\\|y | [[LLM\\|al]] |",
    ),
    (
        "footnotes",
        '<p>a<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup> b'
        '<sup class="footnote-ref"><a href="#fn1" id="fnref1:1">[1:1]</a></sup></p>\n'
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"><p>the <em>note</em> '
        '<a href="#fnref1" class="footnote-backref">↩︎</a> '
        '<a href="#fnref1:1" class="footnote-backref">↩︎</a></p>\n</li>\n</ol>\n</section>',
        "a[^1] b[^1]\n\n[^1]: the *note*",
    ),
    (
        "a footnote's text a block id would hide (an inline footnote's, `2^[^1]`)",
        '<p>2<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup></p>\n'
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"><p>^1 <a href="#fnref1" class="footnote-backref">'
        "↩︎</a></p>\n</li>\n</ol>\n</section>",
        "2[^1]\n\n[^1]: \\^1",
    ),
    (
        "a footnote's reference after a link (from one in the link's text)",
        '<p><a href="http://x.y">a</a><sup class="footnote-ref"><a href="#fn1" id="fnref1">'
        "[1]</a></sup></p>\n"
        '<hr class="footnotes-sep">\n<section class="footnotes">\n<ol class="footnotes-list">\n'
        '<li id="fn1" class="footnote-item"><p>b <a href="#fnref1" class="footnote-backref">'
        "↩︎</a></p>\n</li>\n</ol>\n</section>",
        "[a](http://x.y)[^1]\n\n[^1]: b",
    ),
]


@pytest.mark.parametrize(("what", "html", "expected"), BLOCKS, ids=[m[0] for m in BLOCKS])
def test_blocks(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


TASK = '<input class="task-list-item-checkbox" {}disabled="disabled" type="checkbox">'
CHECKED = 'checked="checked" '
LISTS = [
    ("tight", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>", "- a\n- b"),
    ("loose", "<ul>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ul>", "- a\n\n- b"),
    (
        "nested, ordered",
        "<ol>\n<li>one\n<ul>\n<li>sub <em>a</em></li>\n</ul>\n</li>\n<li>two</li>\n</ol>",
        "1. one\n   - sub *a*\n2. two",
    ),
    ("ordered from 3", '<ol start="3">\n<li>a</li>\n<li>b</li>\n</ol>', "3. a\n4. b"),
    (
        "two lists in a row: two markers",
        "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>\n</ul>",
        "- a\n\n* b",
    ),
    ("an empty item", "<ul>\n<li></li>\n<li>b</li>\n</ul>", "-\n- b"),
    (
        # its TeX keeps the indent of a `4.` (two lists in a row, renumbered as one)
        "an item's number as narrow as its math's indent",
        '<ol start="12">\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n<li>\n'
        "\\[   \\&amp;\n   \\]\n</li>\n</ol>",
        "12. a\n\n13. b\n\n4. $$\n   \\&\n   $$",
    ),
    (
        "tasks",
        '<ul class="contains-task-list">\n'
        f'<li class="task-list-item">{TASK.format("")} open</li>\n'
        f'<li class="task-list-item">{TASK.format(CHECKED)} done</li>\n'
        "<li>plain</li>\n</ul>",
        "- [ ] open\n- [x] done\n- plain",
    ),
    (
        "loose tasks",
        '<ul class="contains-task-list">\n<li class="task-list-item">\n'
        f'<p>{TASK.format("")} a</p>\n</li>\n<li class="task-list-item">\n'
        f"<p>{TASK.format('')} b</p>\n</li>\n</ul>",
        "- [ ] a\n\n- [ ] b",
    ),
    # the space after the box is the markup's, which a line's end would drop
    (
        "a line break after a task box's space",
        f'<ul class="contains-task-list">\n<li class="task-list-item">{TASK.format("")} <br>\n'
        "1</li>\n</ul>",
        "- [ ] \\\n  1",
    ),
    (
        "a line break right after a task box",
        f'<ul class="contains-task-list">\n<li class="task-list-item">{TASK.format("")}<br>\n'
        "1</li>\n</ul>",
        "- [ ] \n  1",
    ),
]


@pytest.mark.parametrize(("what", "html", "expected"), LISTS, ids=[m[0] for m in LISTS])
def test_lists(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


INLINE = [
    (
        "emphasis of each kind",
        "<em>i</em> <strong>b</strong> <s>s</s> <mark>h</mark>",
        "*i* **b** ~~s~~ ==h==",
    ),
    ("strong around em", "<strong><em>x</em></strong>", "**_x_**"),
    ("em around strong", "<em><strong>x</strong></em>", "*__x__*"),
    ("em in a word", "a<em>b</em>c", "a*b*c"),
    ("em next to em", "<em>a</em><em>b</em>", "*a*_b_"),
    ("em nested in em", "<em>:<em>:</em>:</em>", "*:_:_:*"),
    ("an emphasis markdown cannot open: its tags", "a<em> b</em>", "a<em> b</em>"),
    ("line break", "a<br>\nb", "a\nb"),
    ("line break opening a paragraph", "<p><br>\nb</p>\n<p>c</p>", "\\\nb\n\nc"),
    (
        "Anki's cloze untouched",
        "{{c1::hidden}} and {{c2::<strong>x</strong>}}",
        "{{c1::hidden}} and {{c2::**x**}}",
    ),
    ("HTML of a field", "<b>raw html</b> kept", "<b>raw html</b> kept"),
    ("a comment", "text <!-- c --> more", "text <!-- c --> more"),
]


@pytest.mark.parametrize(("what", "html", "expected"), INLINE, ids=[m[0] for m in INLINE])
def test_inline(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


def test_clozes_of_a_cloze_field(renderer: Renderer) -> None:
    """Where `{x}` is a cloze, a brace of text is escaped (Anki's `{{` is not); where `==x==`
    is one, a highlight stays HTML."""
    check(renderer, "{x} and {{c1::y}}", "\\{x} and {{c1::y}}", curly_clozes=True)
    # a `{{` of text that nothing closes stays as it is (a scan for a link's end once wrote it
    # twice, render/cloze.py)
    html = "<ul>\n<li>1<br>\n[<br>\n1<br>\n{{</li>\n</ul>"
    check(renderer, html, "- 1\n  [\n  1\n  {{", curly_clozes=True)
    # a `{{` in a link's or a highlight's text whose `}}` is beyond it (the browser split a
    # link in the link) is escaped: the scan for the text's end would skip to that `}}`
    split = '<a href="http://x.com">{{c1::a</a><a href="http://y.com">b</a>}}'
    check(renderer, split, "[\\{\\{c1::a](http://x.com)[b](http://y.com)}}", curly_clozes=True)
    check(renderer, "x <mark>{{c1::a</mark> b}}", "x ==\\{\\{c1::a== b}}", curly_clozes=True)
    linked = '<a href="http://x.com">{{c1::a}}</a>'
    check(renderer, linked, "[{{c1::a}}](http://x.com)", curly_clozes=True)
    check(renderer, "{x}", "{x}")
    check(renderer, "<mark>h</mark>", "<mark>h</mark>", highlight_clozes=True)


# Text markdown would read as syntax, escaped where (only where) it would.
ESCAPES = [
    ("emphasis marks", "a *b* _c_ snake_case 2 * 3", "a \\*b\\* \\_c\\_ snake_case 2 * 3"),
    ("a heading's mark", "# not a heading", "\\# not a heading"),
    ("a list's mark", "- not a list", "\\- not a list"),
    ("an ordered list's", "1. not a list", "1\\. not a list"),
    ("a quote's", "&gt; not a quote", "\\> not a quote"),
    ("a rule on a line", "a<br>\n---", "a\n\\---"),
    ("currency is no math", "costs $5 and $6", "costs $5 and $6"),
    ("math is", "not $x$ here", "not \\$x$ here"),
    ("a tag", "a &lt;b&gt; c &lt; d", "a \\<b> c < d"),
    ("an entity", "&amp;amp; &amp; x", "\\&amp; & x"),
    ("a wikilink", "[[LLM]] [x](y)", "\\[[LLM]] [x\\](y)"),
    ("an image", "![x](y) ![[z]]", "\\![x\\](y) !\\[[z]]"),
    ("a backslash", "a\\b \\* \\", "a\\b \\\\\\* \\\\"),
    ("code", "a `b` c", "a \\`b\\` c"),
    ("a comment's marks", "50%% off", "50\\%% off"),
    ("an inline footnote's mark", '^<a href="http://x.com">a</a>', "\\^[a](http://x.com)"),
    # a paragraph's closing ` ^id` is an Obsidian block id, which the renderer hides
    ("a block id", "a ^b1", "a \\^b1"),
    ("a block id alone", "^b1", "\\^b1"),
    ("a block id on a line of its own", "a<br>\n^b1", "a\n\\^b1"),
    ("no block id after a letter", "a*^b1", "a\\*^b1"),
    ("no block id before more text", "a ^b1 c", "a ^b1 c"),
    ("highlight and strikethrough marks", "a == b ~~ c = d ~ e", "a \\=\\= b \\~\\~ c = d ~ e"),
    ("spaces markdown would drop", "&nbsp; a&nbsp;b", "&nbsp; a&nbsp;b"),
    ("a line's leading space", "a<br>\n b", "a\n&#32;b"),
    ("a newline of text", "a\nb", "a&#10;b"),
]


@pytest.mark.parametrize(("what", "html", "expected"), ESCAPES, ids=[m[0] for m in ESCAPES])
def test_text_escaped_only_where_markdown_reads_it(
    renderer: Renderer, what: str, html: str, expected: str
) -> None:
    check(renderer, html, expected)


# What Anki's editor writes when a person types (../shared/ankiconnect/README.md).
EDITOR = [
    ("bold, and the space before it", "is&nbsp;<b>bright</b> blue", "is&nbsp;<b>bright</b> blue"),
    (
        "italic, underline",
        "the <i>definition</i> of a <u>gradient</u>",
        "the <i>definition</i> of a <u>gradient</u>",
    ),
    ("Return: a bare <br>", "the definition.<br>It is also", "the definition.<br>It is also"),
    ("typed < and &", "a &lt; b &amp; c costs $5", "a < b & c costs $5"),
    (
        "a pasted span",
        '<span style="color: rgb(255, 0, 0);">red <b>x</b> $y$</span>',
        '<span style="color: rgb(255, 0, 0);">red <b>x</b> \\$y$</span>',
    ),
    (
        "an older editor's div lines",
        "one<div>two *x*</div><div>three</div>",
        "one<div>two \\*x\\*</div><div>three</div>",
    ),
    ("a paragraph alone", "<p>what is SFT?</p>", "<p>what is SFT?</p>"),
]


@pytest.mark.parametrize(("what", "html", "expected"), EDITOR, ids=[m[0] for m in EDITOR])
def test_what_the_editor_writes(renderer: Renderer, what: str, html: str, expected: str) -> None:
    check(renderer, html, expected)


def test_html_an_older_release_pushed_reads_as_the_editor_keeps_it() -> None:
    """`<br />` and newlines inside `\\[...\\]` (what notecards pushed before it wrote Anki's
    form) give the markdown that the editor's rewrite of them gives."""
    older = "a<br />\nb<br />\n\\[\nx^2 &amp;= 1\n\\]<br />\nc"
    kept = "a<br>\nb<br>\n\\[x^2 &amp;= 1\\]<br>\nc"
    assert html_to_markdown(older, vault_name=VAULT) == html_to_markdown(kept, vault_name=VAULT)
    assert html_to_markdown(kept, vault_name=VAULT) == "a\nb\n$$\nx^2 &= 1\n$$\nc"


def test_a_field_nested_deeper_than_the_walk_goes_comes_back_as_its_html() -> None:
    deep = "<span>" * 600 + "x" + "</span>" * 600
    assert html_to_markdown(deep, vault_name=VAULT) == anki_form(deep)


@pytest.mark.parametrize("cloze", [False, True])
def test_a_field_comes_back_under_every_setting_its_vault_rendered_it_with(tmp_path, cloze):
    """The pull converts with the vault's folder (links under `.obsidian` above) and, for a
    cloze type, its curly and highlight clozes: the markdown renders back to the same HTML."""
    (tmp_path / "Other.md").write_text("x")
    config = VaultConfig(
        vault_name="V", vault_folder="notes", curly_cloze=True, highlights_to_cloze=True
    )
    renderer = Renderer(config, tmp_path)
    markdown = "see [[Other]], a \\{brace\\} and <mark>marked</mark>"  # text, not clozes

    def render(text: str) -> str:
        return renderer.render_field(text, cloze=cloze, path="a.md", line=1).html

    html = render(markdown)
    assert render(vault_html_to_markdown(html, config, cloze=cloze)) == html
