"""Load card pages in Qt WebEngine (the browser engine of the Anki desktop), wait for MathJax,
measure what the test asserts and save a screenshot of each.

Run by the Anki desktop's own Python (`/opt/realanki/venv`, which has PyQt6 and WebEngine), not
the project's: `python webengine_shot.py SPEC.json`. SPEC is `{"width": W, "pages": [{"html":
PATH, "png": PATH}, ...], "measure": JS}`; JS is a function body returning a JSON-able value.
Prints one JSON list on stdout: per page, what JS returned. Only the standard library and
PyQt6 here: the project is not importable from that Python.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PyQt6.QtCore import QTimer, QUrl
from PyQt6.QtWebEngineWidgets import QWebEngineView
from PyQt6.QtWidgets import QApplication

# Waits for MathJax (Anki's reviewer typesets each card the same way), then measures.
_RUN = """
(async () => {
  if (window.MathJax && MathJax.startup) {
    await MathJax.startup.promise;
    await MathJax.typesetPromise();
  }
  await document.fonts.ready;
  const measure = () => { /*MEASURE*/ };
  return JSON.stringify({height: document.documentElement.scrollHeight, facts: measure()});
})()
"""
_TIMEOUT_MS = 60_000


class _Shooter:
    def __init__(self, spec: dict):
        self.spec = spec
        self.pages = list(spec["pages"])
        self.results: list[object] = []
        self.view = QWebEngineView()
        self.view.resize(spec["width"], 600)
        self.view.loadFinished.connect(self._loaded)
        self.view.show()

    def next(self) -> None:
        if not self.pages:
            QApplication.instance().quit()
            return
        self.page = self.pages.pop(0)
        self.view.resize(self.spec["width"], 600)
        self.view.load(QUrl.fromLocalFile(self.page["html"]))

    def _loaded(self, ok: bool) -> None:
        if not ok:
            sys.exit(f"could not load {self.page['html']}")
        # runJavaScript hands back a Promise's value as it resolves; poll a global instead.
        run = _RUN.strip().replace("/*MEASURE*/", self.spec.get("measure", "return null;"))
        settle = (
            "v => { window.__shot = v; }, e => { window.__shot = JSON.stringify({error: `${e}`}); }"
        )
        script = f"window.__shot = null; {run}.then({settle});"
        self.view.page().runJavaScript(script)
        self._poll(0)

    def _poll(self, waited: int) -> None:
        if waited > _TIMEOUT_MS:
            sys.exit(f"MathJax or the measurement did not finish: {self.page['html']}")
        self.view.page().runJavaScript("window.__shot", lambda value: self._got(value, waited))

    def _got(self, value: str | None, waited: int) -> None:
        if value is None:
            QTimer.singleShot(100, lambda: self._poll(waited + 100))
            return
        answer = json.loads(value)
        if "error" in answer:
            sys.exit(f"{self.page['html']}: {answer['error']}")
        self.results.append(answer["facts"])
        # The whole card in one picture: as tall as the page, then a moment to paint.
        self.view.resize(self.spec["width"], min(answer["height"] + 20, 12_000))
        QTimer.singleShot(700, self._grab)

    def _grab(self) -> None:
        if not self.view.grab().save(self.page["png"]):
            sys.exit(f"could not save {self.page['png']}")
        self.next()


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    app = QApplication(["webengine_shot", "--disable-gpu"])
    shooter = _Shooter(spec)
    QTimer.singleShot(0, shooter.next)
    app.exec()
    print(json.dumps(shooter.results))


if __name__ == "__main__":
    main()
