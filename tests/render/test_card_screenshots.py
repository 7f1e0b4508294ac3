"""The card stylesheet in a real browser engine: the user's long cards, a card of every block
the stylesheet styles and one-line cards are built into a package, imported into a real Anki
collection, and their answers (as Anki renders them, with the note type's CSS from the
collection) are shown in Qt WebEngine, the Anki desktop's own engine, with Anki's reviewer CSS
and MathJax. The test measures the rendering and keeps a screenshot of each card for a person
to look at, in `.test-output/card-screenshots/` (or `$NOTECARDS_SCREENSHOTS`).

The engine is the Anki desktop's Python (`/opt/realanki/venv`, see ../shared/real-anki): where
it is missing (a user's machine) the test skips and says why; in CI (`CI` set, ../shared there)
it fails instead, as the real-Anki tests do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from notecards.targets.stylesheet import card_css
from tests.helpers.build import run_build
from tests.helpers.collection import AnkiCollection
from tests.helpers.paths import REPO, SHARED, USER_NOTES

VENV = Path(os.environ.get("REALANKI_VENV", "/opt/realanki/venv"))
SHOOTER = REPO / "tests" / "helpers" / "webengine_shot.py"
SCREENSHOTS = Path(
    os.environ.get("NOTECARDS_SCREENSHOTS", REPO / ".test-output" / "card-screenshots")
)
WIDTH = 700  # the window, as a reviewer on a laptop; the card is this less the body's margins

LAYOUT = """\
START
Basic
Front: Every block the card stylesheet styles
Back: ## A second-level heading
A paragraph with inline math $\\sigma(x) = 1/(1+e^{-x})$ and `inline code`.

###### A sixth-level heading
Text under it.

| name | value |
|---|---|
| left | $x^2$ |
| right | 2 |

```python
print("a line of code far longer than any card is wide, so that the block has to scroll sideways")
```

> [!warning] Careful
> A warning.

> [!tip] A tip
> A tip.

> [!example]
> An example.

![[wide.png]]
END
"""
ONE_LINE = """\
START
Basic
Front: What is the capital of France?
Back: Paris
END

START
Basic
Front: Euler's identity?
Back: $e^{i\\pi} + 1 = 0$
END
"""

MEASURE = r"""
const cs = (e, pseudo) => getComputedStyle(e, pseudo);
const qa = document.getElementById('qa');
const all = s => [...qa.querySelectorAll(s)];
const px = (e, property) => parseFloat(cs(e)[property]);
const card = qa.getBoundingClientRect();
const pre = qa.querySelector('pre');
return {
  align: cs(document.body).textAlign,
  block_align: [...new Set(all('p, h1, h2, h3, h4, h5, h6').map(e => cs(e).textAlign))],
  body_px: px(document.body, 'fontSize'),
  heading_px: all('h1, h2, h3, h4, h5, h6').map(h => [h.tagName, px(h, 'fontSize')]),
  cells: all('td, th').map(c => [px(c, 'borderTopWidth'), px(c, 'borderLeftWidth'),
                                 px(c, 'paddingLeft'), px(c, 'paddingTop')]),
  pre: pre && {overflow_x: cs(pre).overflowX, scrolls: pre.scrollWidth > pre.clientWidth,
               right: pre.getBoundingClientRect().right},
  images: all('img').map(i => ({loaded: i.complete && i.naturalWidth > 0,
                                natural: i.naturalWidth, right: i.getBoundingClientRect().right,
                                width: i.getBoundingClientRect().width})),
  callouts: all('.callout').map(c => {
    const title = c.querySelector('.callout-title');
    const icon = cs(title, '::before');
    return {kind: c.dataset.callout, title: cs(title).color, border: cs(c).borderLeftColor,
            icon: icon.webkitMaskImage || icon.maskImage, icon_px: parseFloat(icon.width)};
  }),
  math: all('mjx-container').length,
  raw_math: /\\\(|\\\[/.test(qa.innerText),
  card_left: card.left,
  card_right: card.right,
  page_wider_than_window: document.documentElement.scrollWidth > window.innerWidth,
};
"""


def _engine() -> Path:
    """The Anki desktop's web folder (its reviewer CSS and MathJax); skips (fails in CI) where
    its Python or WebEngine is missing."""
    python = VENV / "bin" / "python"
    probe = "import PyQt6.QtWebEngineWidgets, _aqt; print(list(_aqt.__path__)[0])"
    reason = None
    if not python.exists():
        reason = f"no Anki desktop Python at {python} (../shared/real-anki/start.sh installs it)"
    else:
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
        if found.returncode:
            reason = f"{python} has no Qt WebEngine or aqt: {found.stderr.strip()[-300:]}"
    if reason is None and not shutil.which("xvfb-run"):
        reason = "no xvfb-run (Debian's xvfb) to give Qt WebEngine a display"
    if reason is not None:
        if os.environ.get("CI") and (SHARED / "real-anki").exists():
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(found.stdout.strip()) / "data" / "web"


def _png(width: int, height: int) -> bytes:
    """A plain PNG of this size (a wide figure), written without an imaging library."""
    row = b"\x00" + b"\x30\x80\xd0" * width
    data = zlib.compress(row * height)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def _answers(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Front -> the answer side's HTML as Anki renders it from the imported collection (the
    note type's CSS in a `<style>` first), and the collection's media folder."""
    vault = tmp_path / "vault"
    shutil.copytree(USER_NOTES, vault)
    (vault / "layout.md").write_text(LAYOUT)
    (vault / "one-line.md").write_text(ONE_LINE)
    (vault / "wide.png").write_bytes(_png(1600, 120))
    result = run_build(str(vault), "-o", str(tmp_path / "cards.apkg"), "--quiet")
    assert result.exit_code == 0, result.output
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "cards.apkg")
        basic = anki.col.models.by_name("Basic (notecards)")
        assert basic["css"] == card_css()  # the collection holds the new stylesheet
        answers = {}
        for note in anki.notes().values():
            card = anki.col.get_card(note.card_ids[0])
            answers[note.fields["Front"]] = card.answer()
        return answers, Path(anki.col.media.dir())


def _page(web: Path, media: Path, answer: str) -> str:
    """What Anki's reviewer shows: its CSS and MathJax, `<body class="card card1">`, the card
    in `#qa`; relative media names resolve in the collection's media folder."""
    mathjax = (web / "js" / "vendor" / "mathjax").as_uri()
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><base href="{media.as_uri()}/">
<link rel="stylesheet" href="{(web / "css" / "webview.css").as_uri()}">
<link rel="stylesheet" href="{(web / "css" / "reviewer.css").as_uri()}">
<script src="{(web / "js" / "mathjax.js").as_uri()}"></script>
<script>MathJax.loader.paths.mathjax = "{mathjax}";</script>
<script src="{mathjax}/tex-chtml-full.js"></script>
</head><body class="card card1"><div id="qa">{answer}</div></body></html>
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict]:
    """Front -> the facts measured on its answer side; the screenshots saved on the way."""
    web = _engine()
    tmp_path = tmp_path_factory.mktemp("screenshots")
    answers, media = _answers(tmp_path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = []
    for front, answer in sorted(answers.items()):
        html = tmp_path / f"{_name(front)}.html"
        html.write_text(_page(web, media, answer))
        pages.append({"html": str(html), "png": str(SCREENSHOTS / f"{_name(front)}.png")})
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"width": WIDTH, "pages": pages, "measure": MEASURE}))
    shot = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", VENV / "bin" / "python", SHOOTER, spec],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "QTWEBENGINE_CHROMIUM_FLAGS": "--disable-gpu --no-sandbox"},
    )  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-3000:]
    facts = json.loads(shot.stdout.strip().splitlines()[-1])
    return dict(zip(sorted(answers), facts, strict=True))


def _name(front: str) -> str:
    """A screenshot's file name: the card's question, as words."""
    words = re.findall(r"\w+", re.sub(r"<[^>]*>", " ", front).lower())
    return "-".join(words)[:60]


def _long(rendered: dict[str, dict]) -> dict[str, dict]:
    short = {"What is the capital of France?", "Euler's identity?"}
    return {front: facts for front, facts in rendered.items() if front not in short}


def test_every_card_has_a_screenshot_for_a_person(rendered):
    for front in rendered:
        assert (SCREENSHOTS / f"{_name(front)}.png").stat().st_size > 1000


def test_a_long_answer_is_left_aligned_and_a_one_line_card_centred(rendered):
    long = _long(rendered)
    assert len(long) == 4  # the three cards of notes/ and the layout card
    for facts in long.values():
        assert facts["align"] == "left"
        assert facts["block_align"] == ["left"]
    for front in ("What is the capital of France?", "Euler's identity?"):
        assert rendered[front]["align"] == "center"


def test_no_heading_is_smaller_than_the_text(rendered):
    sizes = [size for facts in _long(rendered).values() for _, size in facts["heading_px"]]
    tags = {tag for facts in _long(rendered).values() for tag, _ in facts["heading_px"]}
    assert {"H2", "H3", "H4", "H5", "H6"} <= tags
    body = rendered["Every block the card stylesheet styles"]["body_px"]
    assert body == 20
    assert min(sizes) >= body


def test_tables_have_borders_and_padding(rendered):
    cells = rendered["Every block the card stylesheet styles"]["cells"]
    assert len(cells) == 6
    assert all(
        top >= 1 and left >= 1 and pad_x >= 4 and pad_y >= 2 for top, left, pad_x, pad_y in cells
    )


def test_a_code_block_scrolls_inside_the_card(rendered):
    facts = rendered["Every block the card stylesheet styles"]
    assert facts["pre"]["overflow_x"] == "auto"
    assert facts["pre"]["scrolls"]  # the line is longer than the card: it scrolls, not spills
    assert facts["pre"]["right"] <= facts["card_right"] + 0.5
    assert not facts["page_wider_than_window"]


def test_an_image_is_no_wider_than_the_card(rendered):
    facts = rendered["Every block the card stylesheet styles"]
    (image,) = facts["images"]
    assert image["loaded"] and image["natural"] == 1600
    assert image["width"] <= facts["card_right"] - facts["card_left"] + 0.5
    assert image["right"] <= facts["card_right"] + 0.5


def test_callouts_show_their_type_colour_and_an_icon(rendered):
    callouts = rendered["Every block the card stylesheet styles"]["callouts"]
    assert [c["kind"] for c in callouts] == ["warning", "tip", "example"]
    assert len({c["title"] for c in callouts}) == 3  # three types, three colours
    for callout in callouts:
        assert callout["title"] == callout["border"]  # the title in the type's colour
        assert callout["icon"].startswith("url(") and callout["icon_px"] > 0


def test_mathjax_typesets_every_formula(rendered):
    for front, facts in rendered.items():
        if front != "What is the capital of France?":
            assert facts["math"] > 0, front
        assert not facts["raw_math"], front
